/** @excite/sdk: the typed GraphQL client, generated from schema.graphql (lands with the service). */
export {};
