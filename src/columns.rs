//! Checked reads of result columns. Tables are used as they are (also the original
//! library's, or hand-made ones), so a column may hold a value of another type than the
//! package reads; mysql_async's typed rows panic on that, these return an error naming the
//! column.

use mysql_async::prelude::FromValue;
use mysql_async::Row;

/// Column `index` of `row` as `T`, or an error naming `table.column`.
pub fn take<T: FromValue>(
    row: &mut Row,
    index: usize,
    table: &str,
    column: &str,
) -> Result<T, mysql_async::Error> {
    match row.take_opt::<T, usize>(index) {
        Some(Ok(value)) => Ok(value),
        _ => Err(mysql_async::Error::Other(
            format!("column {table}.{column} holds a value of an unexpected type").into(),
        )),
    }
}
