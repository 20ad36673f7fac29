/**
 * The client has a method for every operation of the schema, and each method's document takes
 * every argument of its field; the generated enums are the schema's.
 */
import { readFileSync } from 'node:fs';
import { type GraphQLEnumType, type GraphQLObjectType, Kind, type OperationDefinitionNode, buildSchema, isEnumType } from 'graphql';
import { describe, expect, it } from 'vitest';
import * as enums from './generated/enums.ts';
import { MUTATIONS, QUERIES, SUBSCRIPTIONS } from './operations.ts';

const schema = buildSchema(readFileSync(new URL('../../../schema.graphql', import.meta.url), 'utf8'));

const tables: [GraphQLObjectType | null | undefined, Record<string, { definitions: readonly { kind: string }[] }>][] = [
  [schema.getQueryType(), QUERIES],
  [schema.getMutationType(), MUTATIONS],
  [schema.getSubscriptionType(), SUBSCRIPTIONS],
];

describe('operations', () => {
  it.each(tables.map(([type, table]) => [type!.name, type!, table] as const))('every %s field has a method', (_, type, table) => {
    expect(Object.keys(table).sort()).toEqual(Object.keys(type.getFields()).sort());
  });

  it.each(tables.flatMap(([type, table]) => Object.entries(table).map(([name, document]) => [`${type!.name}.${name}`, type!, name, document] as const)))(
    '%s selects its field with every argument',
    (_, type, name, document) => {
      const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
      const [root, ...others] = operation.selectionSet.selections;
      expect(others).toEqual([]);
      expect(root.kind === Kind.FIELD && root.name.value).toBe(name);
      const passed = root.kind === Kind.FIELD ? (root.arguments ?? []).map((a) => a.name.value) : [];
      expect(passed.sort()).toEqual(type.getFields()[name].args.map((a) => a.name).sort());
    },
  );

  it('the generated enum values are the schema’s', () => {
    const schemaEnums = Object.values(schema.getTypeMap()).filter((t): t is GraphQLEnumType => isEnumType(t) && !t.name.startsWith('__'));
    expect(Object.keys(enums).sort()).toEqual(schemaEnums.map((t) => t.name).sort());
    for (const type of schemaEnums) {
      expect(Object.values((enums as Record<string, Record<string, string>>)[type.name]).sort(), type.name).toEqual(type.getValues().map((v) => v.value).sort());
    }
  });
});
