/**
 * A method's defaults under the settings a caller gave: a setting left undefined (a GraphQL field
 * not sent, a CLI flag not given) keeps the method's default instead of erasing it, which a plain
 * object spread would do.
 */
export function withDefaults<D extends object, S extends object>(defaults: D, settings: S): D & S {
  const given = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
  return { ...defaults, ...given } as D & S;
}
