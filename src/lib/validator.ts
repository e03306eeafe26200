import { AjvCompiler } from '@fastify/ajv-compiler'

/** ajv's options for every schema: allErrors, so a 400 names every bad parameter at once. */
export const AJV_OPTIONS = { coerceTypes: 'array', removeAdditional: false, allErrors: true } as const

const build = AjvCompiler()({}, { customOptions: AJV_OPTIONS })

/**
 * A validator for `schema` as Fastify compiles one (the same compiler and options), for input
 * checked away from Fastify's request pipeline: an import body read by a query worker.
 */
export function compileValidator(schema: object) {
  return build({ schema }) as ((data: unknown) => boolean) & { errors?: ValidationError[] | null }
}

/** One ajv error, as Fastify's validation errors carry them. */
export interface ValidationError {
  instancePath: string
  keyword: string
  message?: string
  params: Record<string, unknown>
  schemaPath: string
}
