// esbuild --inject for bench:gpu's CommonJS bundle (gpu-pack.sh): import.meta.url of the bundle file
// eslint-disable-next-line no-undef
export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;
