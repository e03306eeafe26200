import { url } from './api.js'

/**
 * The API calls each page starts with, by the page's address. boot.js starts them while the rest
 * of the app's code is still loading; the pages ask for the very same URLs and get the answers
 * already in flight.
 */

export const titleUrl = (id) => `/titles/${id}?include=credits,akas,episodes`
export const nameUrl = (id) => `/names/${id}`
export const nameCreditsUrl = (id, limit) =>
  url(`/names/${id}/credits`, { limit, sort: 'year', order: 'desc' })
export const CREDITS_PAGE = 2000
export const HOME_FILMS = url('/titles', { type: 'movie', sort: 'votes', limit: 8 })
export const HOME_SERIES = url('/titles', { type: ['tvSeries', 'tvMiniSeries'], sort: 'votes', limit: 8 })

export function pageData(pathname) {
  const title = /^\/title\/(tt\d{7,})\/?$/.exec(pathname)
  if (title) return [titleUrl(title[1])]
  const name = /^\/name\/(nm\d{7,})\/?$/.exec(pathname)
  if (name) return [nameUrl(name[1]), nameCreditsUrl(name[1], CREDITS_PAGE)]
  if (pathname === '/') return [HOME_FILMS, HOME_SERIES]
  return []
}
