// Builds the Admin page of the end-to-end test; the output directory comes from the test.
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  base: "./",
  logLevel: "warn",
  esbuild: { jsx: "automatic" },
  build: {
    outDir: process.env.ADMIN_OUT_DIR,
    emptyOutDir: true,
    chunkSizeWarningLimit: 10000,
    rollupOptions: {
      // MUI marks its modules "use client" (a directive for server rendering): a bundle
      // for the browser drops it, as Vite says at length. Every other warning is shown.
      onwarn(warning, warn) {
        if (warning.code !== "MODULE_LEVEL_DIRECTIVE") warn(warning);
      },
    },
  },
});
