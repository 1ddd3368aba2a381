// Seeds for property tests. `npm test` runs each property with its fixed seed, so every
// run tests the same cases and a failure reproduces; `npm run fuzz` sets
// GRADC_PROPERTY_SEED to a new value each time (printed), so the same properties also
// explore. fast-check prints the seed and path of a failing case either way.

/** The fixed seed, shifted by GRADC_PROPERTY_SEED when it is set. */
export function propertySeed(fixed: number): number {
  const rotate = process.env.GRADC_PROPERTY_SEED;
  return rotate === undefined ? fixed : (fixed + Number(rotate)) | 0;
}
