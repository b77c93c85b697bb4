/** Tables of the standards area (frameworks, items, associations, authoring audit). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by the standards storage work
export interface StandardsTables {}
