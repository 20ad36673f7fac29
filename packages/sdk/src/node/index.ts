/** @excite/sdk/node: what needs a file system (reading a folder to upload, exporting images to one). */
export { readFolder } from './folder.ts';
export { type ExportResult, type ExportedImage, exportImages } from './export-images.ts';
export { type ImportResponsesFromFilesOptions, type StimulusRow, importResponsesFromFiles, parseCsv, parseNpy, readStimulusCsv, responsesInput } from './import-responses.ts';
