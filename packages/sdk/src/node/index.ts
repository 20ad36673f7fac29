/** @excite/sdk/node: what needs a file system (reading a folder to upload, exporting images to one). */
export { readFolder } from './folder.ts';
export { type ExportResult, type ExportedImage, exportImages } from './export-images.ts';
