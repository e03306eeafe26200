import { type TSchema, Type } from 'typebox'
import { type ColumnType, DATASET_NAMES, DATASETS, type DatasetSpec } from '../../datasets/catalogue.js'

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])
const DateTime = Type.String({ format: 'date-time' })

export const DatasetNameSchema = Type.Enum([...DATASET_NAMES], { description: 'An IMDb dataset file' })

const IngestedFileSchema = Type.Object(
  {
    size: Type.Integer({ description: 'Bytes, as the ingest saw the file' }),
    modifiedAt: DateTime,
  },
  { additionalProperties: false },
)

export const DatasetFileSchema = Type.Object(
  {
    name: DatasetNameSchema,
    file: Type.String({ description: 'File name in the data directory' }),
    present: Type.Boolean({ description: 'Whether the file is in the data directory now' }),
    size: Nullable(Type.Integer({ description: 'Bytes on disk now; null when missing' })),
    modifiedAt: Nullable(DateTime),
    loaded: Type.Boolean({ description: 'Whether the loaded generation was built from this file' }),
    ingested: Nullable(IngestedFileSchema),
    changedSinceIngest: Nullable(
      Type.Boolean({
        description:
          'True when size or modification time differ from what the last ingest read (or the file is ' +
          'gone since); null when the loaded generation was not built from it',
      }),
    ),
    linesRead: Nullable(Type.Integer({ description: 'Data lines the ingest read from the file' })),
    rows: Type.String({ description: 'Link to the rows parsed straight from the file' }),
  },
  { additionalProperties: false },
)

export const DatasetsSchema = Type.Object(
  {
    generation: Nullable(Type.String({ description: 'The loaded dataset generation; null when none' })),
    ingest: Nullable(
      Type.Object(
        {
          startedAt: DateTime,
          finishedAt: DateTime,
          durationMs: Type.Integer(),
        },
        { additionalProperties: false, description: 'The ingest that built the loaded generation' },
      ),
    ),
    files: Type.Array(DatasetFileSchema),
    tables: Type.Array(
      Type.Object(
        {
          name: Type.String(),
          rows: Type.Integer(),
          bytes: Nullable(Type.Integer({ description: 'On disk with its indexes; null when unknown' })),
        },
        { additionalProperties: false },
      ),
      { description: 'Rows per table of the loaded generation, from its manifest' },
    ),
  },
  { additionalProperties: false },
)

function columnSchema(type: ColumnType, key: boolean): TSchema {
  const base = ((): TSchema => {
    switch (type) {
      case 'tconst':
      case 'nconst':
      case 'text':
        return Type.String()
      case 'int':
        return Type.Integer()
      case 'float':
        return Type.Number()
      case 'bool':
        return Type.Boolean()
      case 'list':
      case 'idList':
      case 'list02':
      case 'json':
        return Type.Array(Type.String())
    }
  })()
  return key ? base : Nullable(base)
}

/** One row of a dataset file as the reader types it: the catalogue's camelCase columns, nulls, arrays. */
export function rowSchema(spec: DatasetSpec): TSchema {
  return Type.Object(
    Object.fromEntries(spec.columns.map((c) => [c.name, columnSchema(c.type, spec.key.includes(c.name))])),
    { additionalProperties: false, title: spec.name, description: `A row of ${spec.file}` },
  )
}

export const RowSchemas = [...DATASETS.values()].map(rowSchema)

export const RowsPageSchema = Type.Object(
  {
    dataset: DatasetNameSchema,
    items: Type.Array(Type.Union(RowSchemas), {
      description: "Rows of the file, typed by the dataset's columns",
    }),
    limit: Type.Integer(),
    offset: Type.Integer(),
    next: Nullable(Type.String({ description: 'Link to the next rows; null at the end of the file' })),
  },
  { additionalProperties: false },
)
