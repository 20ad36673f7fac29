// Next's ambient types (what the generated, gitignored next-env.d.ts references), so that
// `tsc -p apps/dashboard` checks a fresh clone before any build.
/// <reference types="next" />
/// <reference types="next/image-types/global" />
