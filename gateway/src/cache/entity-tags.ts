/**
 * Which entities a response contains, as purge tags. Walks the response data alongside the
 * operation's selections and the schema's types (aliases and fragments included):
 * - an object of a type with an `id: ID` field tags `<Type>:<id>`;
 * - the same object without its id selected, or inside any list, also tags `<Type>:*` — a list's
 *   membership and order can change when any entity of that type changes (price filters, stock
 *   filters, archiving), so lists are purged by any change of that type;
 * - a null where such an object could be (not found) tags `<Type>:*` too.
 */
import {
  Kind,
  getNamedType,
  getNullableType,
  isAbstractType,
  isLeafType,
  isListType,
  isObjectType,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

export const ANY_ID = '*';
export const entityTag = (typeName: string, id: string) => `${typeName}:${id}`;

export function collectEntityTags(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  data: Record<string, unknown>,
): string[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const root = schema.getRootType(operation.operation);
  const tags = new Set<string>();
  if (!root) return [];

  const appliesTo = (typeCondition: string | undefined, type: GraphQLObjectType) => {
    if (!typeCondition || typeCondition === type.name) return true;
    const condition = schema.getType(typeCondition);
    return !!condition && isAbstractType(condition) && schema.isSubType(condition, type);
  };

  /** Field nodes per response key for one concrete object type (graphql-js's collectFields, minus @skip/@include: absent keys are simply absent). */
  const collectFields = (type: GraphQLObjectType, selectionSets: readonly SelectionSetNode[]) => {
    const fields = new Map<string, FieldNode[]>();
    const visited = new Set<string>();
    const walk = (selectionSet: SelectionSetNode) => {
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          const key = selection.alias?.value ?? selection.name.value;
          fields.set(key, [...(fields.get(key) ?? []), selection]);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          if (appliesTo(selection.typeCondition?.name.value, type)) walk(selection.selectionSet);
        } else if (!visited.has(selection.name.value)) {
          visited.add(selection.name.value);
          const fragment = fragments.get(selection.name.value);
          if (fragment && appliesTo(fragment.typeCondition.name.value, type)) walk(fragment.selectionSet);
        }
      }
    };
    selectionSets.forEach(walk);
    return fields;
  };

  const idFieldOf = (type: GraphQLObjectType) => {
    const field = type.getFields().id;
    return field && getNamedType(field.type).name === 'ID' ? field : undefined;
  };

  const visitObject = (
    type: GraphQLObjectType,
    selectionSets: readonly SelectionSetNode[],
    value: Record<string, unknown>,
    inList: boolean,
  ) => {
    const fields = collectFields(type, selectionSets);
    if (idFieldOf(type)) {
      const idKey = [...fields].find(([, nodes]) => nodes[0]!.name.value === 'id')?.[0];
      const id = idKey === undefined ? undefined : value[idKey];
      if (typeof id === 'string' || typeof id === 'number') tags.add(entityTag(type.name, String(id)));
      if (inList || id === undefined || id === null) tags.add(entityTag(type.name, ANY_ID));
    }
    for (const [key, nodes] of fields) {
      const definition = type.getFields()[nodes[0]!.name.value];
      if (!definition) continue; // __typename
      const childSets = nodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
      visitValue(definition.type, childSets, value[key], inList);
    }
  };

  const visitValue = (
    type: GraphQLOutputType,
    selectionSets: readonly SelectionSetNode[],
    value: unknown,
    inList: boolean,
  ): void => {
    if (value === undefined) return;
    if (value === null) {
      // "Not found" may stop being true (the product is created or changes its slug): any change of the type purges it.
      const named = getNamedType(type);
      const candidates = isObjectType(named) ? [named] : isAbstractType(named) ? schema.getPossibleTypes(named) : [];
      for (const candidate of candidates) if (idFieldOf(candidate)) tags.add(entityTag(candidate.name, ANY_ID));
      return;
    }
    const nullable = getNullableType(type);
    if (isListType(nullable)) {
      if (Array.isArray(value)) for (const item of value) visitValue(nullable.ofType, selectionSets, item, true);
      return;
    }
    if (isLeafType(nullable) || typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    if (isObjectType(nullable)) {
      visitObject(nullable, selectionSets, record, inList);
      return;
    }
    // Interface or union: the concrete type is known only when __typename was selected; otherwise every
    // possible type is assumed, which can only add tags (purge more), never miss one.
    const typename = typeof record.__typename === 'string' ? schema.getType(record.__typename) : undefined;
    const candidates = typename && isObjectType(typename) ? [typename] : schema.getPossibleTypes(nullable);
    for (const candidate of candidates) visitObject(candidate, selectionSets, record, inList);
  };

  visitObject(root, [operation.selectionSet], data, false);
  return [...tags].sort();
}
