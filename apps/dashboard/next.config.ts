/**
 * The dashboard's Next.js settings. @excite/sdk is a workspace package published as TypeScript
 * source, so Next compiles it; the workspace root is Turbopack's root so that the package,
 * symlinked into node_modules, resolves. Types are checked by the repository's typecheck
 * (`npm run typecheck`), not again by every build (`excite serve` builds on demand).
 */
import { fileURLToPath } from 'node:url';
import type { NextConfig } from 'next';

const workspaceRoot = fileURLToPath(new URL('../..', import.meta.url));

const config: NextConfig = {
  transpilePackages: ['@excite/sdk'],
  turbopack: { root: workspaceRoot },
  outputFileTracingRoot: workspaceRoot,
  typescript: { ignoreBuildErrors: true },
  poweredByHeader: false,
  reactStrictMode: true,
};

export default config;
