//! Text tables for the terminal: every cell the operator commands print goes through here.
//!
//! Cells are measured in display columns (a CJK character takes two, an accent none), cut with
//! an ellipsis past their column's limit, and stripped of control and bidi characters — a
//! store's name or an error from outside can hold an escape sequence or a newline that would
//! otherwise redraw the operator's terminal or break the table's rows. The rule is the pages'
//! own, `connector::display`; only the measure (columns, not characters) is the terminal's.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// A column: its heading, its widest cell (in display columns) and its alignment.
pub struct Column {
    heading: &'static str,
    max: usize,
    right: bool,
}

impl Column {
    pub fn left(heading: &'static str, max: usize) -> Column {
        Column {
            heading,
            max,
            right: false,
        }
    }

    pub fn right(heading: &'static str, max: usize) -> Column {
        Column {
            heading,
            max,
            right: true,
        }
    }
}

pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: Vec<Column>) -> Table {
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    /// Adds a row; missing cells are empty, extra ones dropped.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut row: Vec<String> = cells
            .into_iter()
            .zip(&self.columns)
            .map(|(cell, column)| cell_text(cell.as_ref(), column.max))
            .collect();
        row.resize(self.columns.len(), String::new());
        self.rows.push(row);
    }

    /// The table, each column as wide as its widest cell, two spaces between columns, no
    /// trailing spaces; one line per row after the headings.
    pub fn render(&self) -> String {
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                self.rows
                    .iter()
                    .map(|r| r[i].width())
                    .chain([c.heading.width()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let headings: Vec<String> = self.columns.iter().map(|c| c.heading.to_owned()).collect();
        let mut out = String::new();
        for row in std::iter::once(&headings).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = " ".repeat(widths[i] - cell.width());
                if self.columns[i].right {
                    line.push_str(&pad);
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    line.push_str(&pad);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// `text` made safe for one terminal cell of at most `max` display columns: control and bidi
/// characters become `?` (a space for tabs and line breaks), and a longer text is cut and ends
/// in `…` ([`connector::display::shown_by`]).
pub fn cell_text(text: &str, max: usize) -> String {
    connector::display::shown_by(text, max, |c| c.width().unwrap_or(0)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_stay_aligned_when_values_are_long_wide_or_missing() {
        let mut t = Table::new(vec![
            Column::left("ID", 10),
            Column::right("QUEUE", 6),
            Column::left("STORE", 12),
        ]);
        t.row(["con_a", "3", "Ñuñoa Tienda"]);
        t.row(["con_bbbbbbbbbbbbbbbb", "12345", "東京ストア東京ストア"]);
        t.row(["con_c"]);
        assert_eq!(
            t.render(),
            "ID          QUEUE  STORE\n\
             con_a           3  Ñuñoa Tienda\n\
             con_bbbbb…  12345  東京ストア…\n\
             con_c\n"
        );
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        assert_eq!(cell_text("a\u{1b}[2Jb\nc\td", 20), "a?[2Jb c d");
        assert_eq!(cell_text("x\u{202e}y\u{0}z\u{61c}", 20), "x?y?z?");
    }

    #[test]
    fn cut_cells_end_in_an_ellipsis_within_the_limit() {
        assert_eq!(cell_text("abcdef", 6), "abcdef");
        assert_eq!(cell_text("abcdefg", 6), "abcde…");
        assert_eq!(cell_text("東京東京", 6), "東京…");
        assert_eq!(cell_text("東京東京", 6).width(), 5);
    }
}
