/** Response entries for the problem statuses a route can answer, referencing the shared schema. */
export function problemResponses(...statuses: number[]): Record<number, { $ref: string }> {
  return Object.fromEntries(statuses.map((s) => [s, { $ref: 'Problem#' }]))
}
