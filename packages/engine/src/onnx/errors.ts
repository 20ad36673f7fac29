/** Errors raised while building, differentiating or running graphs; they name the node at fault. */
export class GraphError extends Error {
  constructor(
    message: string,
    readonly node?: string,
    readonly opType?: string,
  ) {
    super(node ? `node "${node}" (${opType}): ${message}` : message);
    this.name = 'GraphError';
  }
}
