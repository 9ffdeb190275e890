import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Built into web/dist, which the console service serves; `vite` alone serves it for development,
// passing /api to a console at CONSOLE_URL (default the stack's).
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: { proxy: { '/api': process.env.CONSOLE_URL ?? 'http://127.0.0.1:8088' } },
});
