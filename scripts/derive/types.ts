/** A JSON Schema 2020-12 / OpenAPI 3.1 schema object, loosely typed for building documents. */
export interface JsonSchema {
  [keyword: string]: unknown;
  type?: string | string[];
  $ref?: string;
}
