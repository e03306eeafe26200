import { Type } from 'typebox'

/** RFC 9457 problem details as marquee sends them. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'A URI identifying the kind of problem' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.String({ description: 'The request id (also in the X-Request-Id header)' }),
    code: Type.String({ description: 'A stable machine-readable code' }),
  },
  { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details' },
)
