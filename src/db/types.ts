/**
 * Kysely table types of a dataset database, the same on SQLite and PostgreSQL, derived from the
 * table descriptions of tables.ts (see there for what each column holds).
 */

import type { ColumnType, DATASET_TABLES, TableName } from './tables.js'

/** The TypeScript type of a stored value. */
type ValueOf<T extends ColumnType> = T extends 'text' ? string : number

type ColumnsOf<T extends TableName> = (typeof DATASET_TABLES)[T]['columns'][number]

/** One row of `table`: each column's value, `| null` where the column is nullable. */
export type Row<T extends TableName> = {
  [C in ColumnsOf<T> as C['name']]: C extends { readonly nullable: true }
    ? ValueOf<C['type']> | null
    : ValueOf<C['type']>
}

export type TitlesTable = Row<'titles'>
export type TitleGenresTable = Row<'title_genres'>
export type AkasTable = Row<'akas'>
export type CrewTable = Row<'crew'>
export type EpisodesTable = Row<'episodes'>
export type PrincipalsTable = Row<'principals'>
export type NamesTable = Row<'names'>
export type NameProfessionsTable = Row<'name_professions'>
export type MetaTable = Row<'meta'>

export type DatasetDB = { [T in TableName]: Row<T> }
