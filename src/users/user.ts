/** What a key may do: read the dataset and keep lists (user), also run SQL (analyst), everything (admin). */
export type Role = 'user' | 'analyst' | 'admin'

/** The user a request's API key stands for. */
export interface User {
  readonly id: string
  readonly name: string
  readonly role: Role
}
