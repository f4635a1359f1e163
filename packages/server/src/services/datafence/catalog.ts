/**
 * The product catalogue `get-product-spec` answers (datafence.md §4.2 #8, §5.1). Spec codes follow
 * NCP's server-spec naming (`SVR.<hypervisor/series>.<class>.C<vCPU>.M<GiB>.NET.<disk>.B<GB>.G<gen>`);
 * the HD_WORKER standard spec, its quantities (2 / 2 / 8) and `XEN` are the documented example;
 * the rest is our catalogue, chosen to look like the real one and to be stable across releases
 * (clients persist spec codes).
 */
export interface SpecCode {
  specCode: string;
  specName: string;
  hypervisorTypeCode: string;
}

export interface ProductSpec {
  productCode: string;
  defaultQuantity: number;
  minQuantity: number;
  maxQuantity: number;
  specCodeList: SpecCode[];
  softwareCodeList: Array<{ softwareCode: string; softwareName: string }>;
}

const CLASSES = {
  STAND: 'Standard',
  HICPU: 'High CPU',
  HIMEM: 'High Memory',
} as const;

function spec(series: string, cls: keyof typeof CLASSES, cpu: number, mem: number, disk = 'HDD.B050', gen = 'G002'): SpecCode {
  const c = String(cpu).padStart(3, '0');
  const m = String(mem).padStart(3, '0');
  return {
    specCode: `SVR.${series}.${cls}.C${c}.M${m}.NET.${disk}.${gen}`,
    specName: `${CLASSES[cls]} (${cpu}vCPU ${mem}GB Mem)`,
    hypervisorTypeCode: 'XEN',
  };
}

function gpuSpec(gpus: number, cpu: number, mem: number): SpecCode {
  return {
    specCode: `SVR.VSVR.GPU.T4.G${String(gpus).padStart(3, '0')}.C${String(cpu).padStart(3, '0')}.M${String(mem).padStart(3, '0')}.NET.SSD.B050.G001`,
    specName: `GPU (Tesla T4 x${gpus}, ${cpu}vCPU ${mem}GB Mem)`,
    hypervisorTypeCode: 'XEN',
  };
}

function nasSpec(gb: number): SpecCode {
  return { specCode: `NAS.STAND.${gb}GB`, specName: `${gb}GB`, hypervisorTypeCode: 'XEN' };
}

const UBUNTU = [{ softwareCode: 'SW.VSVR.OS.LNX64.UBNTU.SVR2004.B050', softwareName: 'ubuntu-20.04' }];
const UBUNTU_22 = [
  ...UBUNTU,
  { softwareCode: 'SW.VSVR.OS.LNX64.UBNTU.SVR2204.B050', softwareName: 'ubuntu-22.04' },
];
const WINDOWS = [{ softwareCode: 'SW.VSVR.OS.WND64.WND.SVR2019EN.B100', softwareName: 'Windows Server 2019 (64-bit) English Edition' }];
const TF = [{ softwareCode: 'SW.VSVR.APP.LNX64.UBNTU.SVR2004.TFLOW.B050', softwareName: 'tensorflow-2.x (ubuntu-20.04)' }];
const HADOOP = [{ softwareCode: 'SW.VCHDP.LNX64.CNTOS.0708.HDP.21.B050', softwareName: 'Cloud Hadoop 2.1' }];

const VSVR_GENERAL = [
  spec('VSVR', 'STAND', 2, 8),
  spec('VSVR', 'STAND', 4, 16),
  spec('VSVR', 'STAND', 8, 32),
  spec('VSVR', 'HICPU', 8, 16),
  spec('VSVR', 'HIMEM', 4, 32),
];
const HADOOP_NODES = [
  spec('VCHDP', 'STAND', 4, 16),
  spec('VCHDP', 'STAND', 8, 32),
  spec('VCHDP', 'HIMEM', 4, 32),
  spec('VCHDP', 'HIMEM', 8, 64),
];
// The documented example code keeps its documented `MSTDT` class segment.
const HD_WORKER_STANDARD: SpecCode = {
  specCode: 'SVR.VCHDP.MSTDT.STAND.C004.M016.NET.HDD.B050.G002',
  specName: 'Standard (4vCPU 16GB Mem)',
  hypervisorTypeCode: 'XEN',
};

export const PRODUCT_CATALOG: readonly ProductSpec[] = [
  { productCode: 'FENCE_UBUNTU', defaultQuantity: 1, minQuantity: 1, maxQuantity: 4, specCodeList: VSVR_GENERAL.slice(0, 3), softwareCodeList: UBUNTU_22 },
  { productCode: 'FENCE_NAS', defaultQuantity: 1, minQuantity: 1, maxQuantity: 10, specCodeList: [500, 1000, 2000].map(nasSpec), softwareCodeList: [] },
  { productCode: 'BOX', defaultQuantity: 1, minQuantity: 1, maxQuantity: 1, specCodeList: [{ specCode: 'BOX.STAND.G001', specName: 'Analysis data box', hypervisorTypeCode: 'XEN' }], softwareCodeList: [] },
  { productCode: 'BOX_NAS', defaultQuantity: 1, minQuantity: 1, maxQuantity: 10, specCodeList: [500, 1000, 2000].map(nasSpec), softwareCodeList: [] },
  { productCode: 'CON', defaultQuantity: 1, minQuantity: 1, maxQuantity: 4, specCodeList: VSVR_GENERAL.slice(0, 2), softwareCodeList: WINDOWS },
  // Minimum 0: a box may have Windows servers instead (create-box, datafence.md §4.3 #9).
  { productCode: 'SVR_LNX_UBUNTU', defaultQuantity: 1, minQuantity: 0, maxQuantity: 4, specCodeList: VSVR_GENERAL, softwareCodeList: UBUNTU_22 },
  { productCode: 'SVR_WIN', defaultQuantity: 1, minQuantity: 0, maxQuantity: 4, specCodeList: VSVR_GENERAL, softwareCodeList: WINDOWS },
  { productCode: 'TF_CPU', defaultQuantity: 1, minQuantity: 0, maxQuantity: 4, specCodeList: VSVR_GENERAL.slice(1), softwareCodeList: TF },
  { productCode: 'TF_GPU', defaultQuantity: 1, minQuantity: 0, maxQuantity: 2, specCodeList: [gpuSpec(1, 8, 80), gpuSpec(2, 16, 160)], softwareCodeList: TF },
  { productCode: 'HD_EDGE', defaultQuantity: 1, minQuantity: 1, maxQuantity: 1, specCodeList: HADOOP_NODES, softwareCodeList: HADOOP },
  { productCode: 'HD_MASTER', defaultQuantity: 2, minQuantity: 2, maxQuantity: 2, specCodeList: HADOOP_NODES, softwareCodeList: HADOOP },
  { productCode: 'HD_WORKER', defaultQuantity: 2, minQuantity: 2, maxQuantity: 8, specCodeList: [HD_WORKER_STANDARD, ...HADOOP_NODES.slice(1)], softwareCodeList: HADOOP },
];

export function productOf(productCode: string): ProductSpec {
  const p = PRODUCT_CATALOG.find((x) => x.productCode === productCode);
  if (!p) throw new Error(`no product ${productCode} in the catalogue`);
  return p;
}

/** The spec of `productCode` with this code, or undefined (create-box / change-*-infra check with it). */
export function specOf(productCode: string, specCode: string): SpecCode | undefined {
  return productOf(productCode).specCodeList.find((s) => s.specCode === specCode);
}

export function isSpecOf(productCode: string, specCode: string): boolean {
  return specOf(productCode, specCode) !== undefined;
}

export function isSoftwareOf(productCode: string, softwareCode: string): boolean {
  return productOf(productCode).softwareCodeList.some((s) => s.softwareCode === softwareCode);
}

/** The software a server gets when the request names none (connect servers, Hadoop clusters). */
export function defaultSoftware(productCode: string): string {
  return productOf(productCode).softwareCodeList[0]?.softwareCode ?? '';
}
