import type { FastifyReply, FastifyRequest } from 'fastify'
import type { DatasetHandle } from '../dataset/handle.js'

/**
 * Sets ETag and Last-Modified (both tied to the pinned generation) and answers 304 when the
 * client's copy is current. Returns true when the reply was sent.
 */
export function notModified(request: FastifyRequest, reply: FastifyReply, handle: DatasetHandle): boolean {
  const g = handle.generation
  reply.header('etag', g.etag)
  if (g.lastModified) reply.header('last-modified', g.lastModified)
  reply.header('cache-control', 'no-cache')
  const inm = request.headers['if-none-match']
  if (inm !== undefined) {
    const tags = inm.split(',').map((t) => t.trim().replace(/^W\//, ''))
    if (tags.includes(g.etag) || tags.includes('*')) {
      reply.code(304).send()
      return true
    }
    return false
  }
  const ims = request.headers['if-modified-since']
  if (ims !== undefined && g.lastModified) {
    const since = Date.parse(ims)
    if (!Number.isNaN(since) && Date.parse(g.lastModified) <= since) {
      reply.code(304).send()
      return true
    }
  }
  return false
}
