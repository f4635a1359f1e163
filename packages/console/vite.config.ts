// The web console's build: static files under dist/, served by the server at /console/.
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/console/',
  // Preact's automatic JSX runtime (no Babel plugin: the transform Vite ships does it).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inline scripts (the server's Content-Security-Policy forbids them) and no extra loader.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: 'es2022',
    reportCompressedSize: false,
  },
  resolve: { conditions: ['browser', 'module', 'import', 'default'] },
});
