// Type of a migration imported as text (`import sql from "./0000_x.sql" with { type: "text" }`), as
// db/sqlite/migrations/index.ts and db/pg/migrations/index.ts do to embed them in the binary.
declare module "*.sql" {
  const text: string;
  export default text;
}
