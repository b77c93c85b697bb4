/** Tables of the LTI area (platforms, deployments, login state, nonces, keys, courses, people). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by the LTI storage work
export interface LtiTables {}
