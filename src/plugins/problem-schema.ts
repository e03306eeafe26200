import { Type } from 'typebox'
import { PROBLEMS, type ProblemCode } from '../errors.js'

/** RFC 9457 problem details as marquee sends them. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'A URI identifying the kind of problem' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.String({ description: 'The request id (also in the X-Request-Id header)' }),
    code: Type.Unsafe<ProblemCode>({
      type: 'string',
      enum: Object.keys(PROBLEMS),
      description: 'A stable machine-readable code (the catalogue in src/errors.ts)',
    }),
  },
  { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details' },
)
