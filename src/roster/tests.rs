//! Rosters and schedules built from the seed notices' classes and head counts.

use super::*;

fn csv(text: &str) -> Table {
    read_table("r.csv", text.as_bytes()).unwrap()
}

const ROSTER: &str = "\u{feff}学号,姓名,身份证号,班级,学院,专业,层次
0021010101,欧阳娜娜,36010219990101123x,法学 2101,法学院,法学,本科
0021010102,王喆,440304199003072515,法学 2101,法学院,法学,本科
0021010103,阿依古丽·买买提,650102200001011234,汉语言文学(公费师范)2101,文学院,汉语言文学,本科
0021010104,李𠮷,110105194912310021,20数（1）,数学学院,数学,专科
";

#[test]
fn reads_chinese_headers_and_masks_while_reading() {
    let rows = parse_roster(&csv(ROSTER), RowPolicy::Strict).unwrap().entries;
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].xh, "0021010101");
    assert_eq!(rows[0].xm, "欧**娜");
    assert_eq!(rows[0].zjhm, "123X");
    assert_eq!(rows[1].xm, "王*");
    assert_eq!(rows[2].xm, "阿***·**提");
    assert_eq!(rows[2].class, "汉语言文学(公费师范)2101");
    assert_eq!(rows[3].class, "20数（1）");
    assert_eq!(rows[0].major, "法学");
    let debug = format!("{rows:?}");
    for clear in ["欧阳娜娜", "王喆", "36010219990101123", "440304199003072515"] {
        assert!(!debug.contains(clear), "{clear} survived the reading");
    }
}

#[test]
fn reads_english_headers_in_any_order() {
    let t = csv("name,class,student_id,id_number\n阿依古丽·买买提,20数（1）,2020001,650102200001011234\n");
    let rows = parse_roster(&t, RowPolicy::Strict).unwrap().entries;
    assert_eq!(rows[0].xm, "阿***·**提");
    assert_eq!(rows[0].zjhm, "1234");
}

#[test]
fn reads_a_gbk_csv_as_excel_on_chinese_windows_saves_it() {
    let text = ROSTER.replace("李𠮷", "李四").replace('\u{feff}', "");
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    let rows = parse_roster(&read_table("名单.csv", &gbk).unwrap(), RowPolicy::Strict).unwrap().entries;
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].xm, "欧**娜");
    assert_eq!(rows[2].class, "汉语言文学(公费师范)2101");
}

#[test]
fn reads_xlsx_with_numeric_student_numbers() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["学号", "姓名", "班级", "学院"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    // A text 学号 with its leading zero, and two Excel stored as numbers.
    sheet.write_string(1, 0, "0021010101").unwrap();
    sheet.write_number(2, 0, 21010102.0).unwrap();
    sheet.write_number(3, 0, 21010103.0).unwrap();
    for r in 1..4u32 {
        sheet.write_string(r, 1, ["欧阳娜娜", "王喆", "张三丰"][r as usize - 1]).unwrap();
        sheet.write_string(r, 2, "法学 2101").unwrap();
        sheet.write_string(r, 3, "法学院").unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    let rows = parse_roster(&read_table("roster.xlsx", &bytes).unwrap(), RowPolicy::Strict).unwrap().entries;
    let xhs: Vec<&str> = rows.iter().map(|r| r.xh.as_str()).collect();
    assert_eq!(xhs, ["0021010101", "0021010102", "0021010103"], "no .0, no exponent, zeros restored");
    assert_eq!(rows[2].xm, "张*丰");
}

#[test]
fn numeric_student_numbers_without_a_zero_padded_column_stay_as_they_are() {
    let t = csv("学号,姓名,班级\n2021010101,张三,法学 2101\n21,李四,法学 2101\n");
    let rows = parse_roster(&t, RowPolicy::Strict).unwrap().entries;
    assert_eq!(rows[1].xh, "21");
}

#[test]
fn every_bad_file_is_refused_with_the_row_and_the_problem() {
    type Expect = Box<dyn Fn(&RosterError) -> bool>;
    let cases: Vec<(&str, Expect)> = vec![
        (
            "学号,姓名,班级\n1,张三,法学 2101\n1,李四,法学 2101\n",
            Box::new(|e| matches!(e, RosterError::BadRows(p) if p[0].row == 3 && p[0].en.contains("repeats row 2"))),
        ),
        (
            "学号,姓名,班级\n1,张,法学 2101\n",
            Box::new(|e| matches!(e, RosterError::BadRows(p) if p[0].row == 2 && p[0].en.contains("masked"))),
        ),
        (
            "学号,姓名,班级\n1\n",
            Box::new(|e| matches!(e, RosterError::BadRows(p) if p[0].row == 2 && p[0].en.contains("too few cells"))),
        ),
        (
            "学号,姓名,班级,身份证号\n1,张三,法学 2101,12\n",
            Box::new(|e| matches!(e, RosterError::BadRows(p) if p[0].en.contains("ID number"))),
        ),
        (
            "学号,姓名,班级\n,张三,法学 2101\n",
            Box::new(|e| matches!(e, RosterError::BadRows(p) if p[0].en.contains("empty"))),
        ),
        (
            "学号,姓名,班级\n1,张三,\n",
            Box::new(|e| matches!(e, RosterError::BadRows(p) if p[0].en.contains("class is empty"))),
        ),
        ("a,b\n1,2\n", Box::new(|e| matches!(e, RosterError::MissingColumn(_)))),
        ("学号,姓名\n1,张三\n", Box::new(|e| matches!(e, RosterError::MissingColumn(c) if c.contains("班级")))),
        ("学号,姓名,班级\n", Box::new(|e| matches!(e, RosterError::NoRows))),
    ];
    for (text, is_expected) in cases {
        let err = parse_roster(&csv(text), RowPolicy::Strict).unwrap_err();
        assert!(is_expected(&err), "{text:?} gave {err}");
        let msg = err.to_string();
        assert!(msg.contains(" / "), "bilingual: {msg}");
    }
    assert!(matches!(read_table("r.csv", b"   "), Err(TableError::Empty)));
    assert!(matches!(read_table("r.xlsx", b"PK\x03\x04not a zip"), Err(TableError::NotASpreadsheet(_))));
    assert!(matches!(read_table("r.png", b"\x89PNG\r\n\x1a\n\0\0\0"), Err(TableError::NotASpreadsheet(_))));
}

#[test]
fn valid_rows_only_takes_the_good_rows_and_lists_the_rest() {
    let t = csv("学号,姓名,班级\n1,张三,法学 2101\n1,李四,法学 2101\n2,王,法学 2101\n3,赵六,法学 2101\n");
    let import = parse_roster(&t, RowPolicy::ValidRowsOnly).unwrap();
    assert_eq!(import.entries.iter().map(|e| e.xh.as_str()).collect::<Vec<_>>(), ["1", "3"]);
    assert_eq!(import.rejected.iter().map(|p| p.row).collect::<Vec<_>>(), [3, 4]);
}

#[test]
fn reads_a_schedule_built_from_a_seed_notice() {
    // Seed 004: class, date, slot, station and head count.
    let t = csv("班级,日期,时间段,机位,人数\n法学 2101,2023.12.11,9:00~9:50,1,56\n汉语言文学(公费师范)2101,2023年12月11日,09:50-10:40,机位2,61\n20数（1）,2023/12/12,14:00~14:45,3,38\n");
    let rows = parse_schedule(&t).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].date, "2023-12-11");
    assert_eq!(rows[1].date, "2023-12-11");
    assert_eq!(rows[1].station, "2");
    assert_eq!(rows[2].date, "2023-12-12");
    assert_eq!(rows[0].head_count, Some(56));
    assert_eq!(rows[0].start_minutes(), Some(540));
    assert_eq!(rows[1].end_minutes(), Some(640));
}

#[test]
fn a_bad_schedule_is_refused_by_row() {
    let bad =
        csv("班级,日期,时间段,机位,人数\n法学 2101,下周一,9:00~9:50,1,56\n法学 2102,2023-12-11,9:50~10:40,1,很多\n");
    let err = parse_schedule(&bad).unwrap_err();
    assert!(matches!(&err, RosterError::BadRows(p) if p.len() == 2 && p[0].row == 2 && p[1].row == 3), "{err}");
    assert!(matches!(parse_schedule(&csv("班级,日期\n1,2\n")), Err(RosterError::MissingColumn(_))));
}

#[test]
fn dates_in_the_forms_schools_write() {
    assert_eq!(normalize_date("2023年3月2日").as_deref(), Some("2023-03-02"));
    assert_eq!(normalize_date("2023-3-2").as_deref(), Some("2023-03-02"));
    assert_eq!(normalize_date("2023.02.30"), None);
    assert_eq!(normalize_date("3月2日"), None);
}

/// Issue 17 §6: each file that was imported wrong without a word is now
/// refused with its row and column, or imported right and explained.
mod never_silently_wrong {
    use super::*;

    fn problems(t: &Table) -> Vec<String> {
        match parse_roster(t, RowPolicy::Strict) {
            Err(RosterError::BadRows(p)) => p.iter().map(ToString::to_string).collect(),
            Err(e) => vec![e.to_string()],
            Ok(r) => panic!("imported {} rows: {:?}", r.entries.len(), r.notes),
        }
    }

    fn xlsx(build: impl FnOnce(&mut rust_xlsxwriter::Workbook)) -> Table {
        let mut book = rust_xlsxwriter::Workbook::new();
        build(&mut book);
        read_table("r.xlsx", &book.save_to_buffer().unwrap()).unwrap()
    }

    fn header(sheet: &mut rust_xlsxwriter::Worksheet) {
        for (c, h) in ["学号", "姓名", "身份证号", "班级"].iter().enumerate() {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
    }

    #[test]
    fn a_hidden_stale_first_sheet_is_passed_over_for_the_visible_one() {
        let t = xlsx(|book| {
            let stale = book.add_worksheet().set_name("旧名单").unwrap();
            header(stale);
            stale.write_string(1, 0, "0099").unwrap();
            stale.write_string(1, 1, "旧学生").unwrap();
            stale.write_string(1, 3, "旧班").unwrap();
            stale.set_hidden(true);
            let active = book.add_worksheet().set_name("名单").unwrap();
            header(active);
            active.write_string(1, 0, "0021").unwrap();
            active.write_string(1, 1, "张三丰").unwrap();
            active.write_string(1, 3, "法学 2101").unwrap();
            active.set_active(true);
        });
        let import = parse_roster(&t, RowPolicy::Strict).unwrap();
        assert_eq!(import.entries.len(), 1);
        assert_eq!(import.entries[0].xh, "0021");
        assert!(
            import.notes.iter().any(|n| n.contains("名单") && n.contains("hidden sheets skipped: 旧名单")),
            "{:?}",
            import.notes
        );
    }

    #[test]
    fn an_id_number_stored_as_an_excel_number_is_refused() {
        let t = xlsx(|book| {
            let s = book.add_worksheet();
            header(s);
            s.write_string(1, 0, "0021").unwrap();
            s.write_string(1, 1, "张三丰").unwrap();
            s.write_number(1, 2, 110105194912315844.0).unwrap();
            s.write_string(1, 3, "法学 2101").unwrap();
        });
        let p = problems(&t);
        assert!(p[0].contains("row 2") && p[0].contains("column C") && p[0].contains("stored as a number"), "{p:?}");
    }

    #[test]
    fn a_csv_with_gbk_rows_after_utf8_rows_is_refused_at_the_first_gbk_row() {
        let (gbk, _, _) = encoding_rs::GBK.encode("0021010103,李四光,法学 2101\n");
        let bytes = ["学号,姓名,班级\n0021010102,王小明,法学 2101\n".as_bytes(), &gbk].concat();
        let err = read_table("r.csv", &bytes).unwrap_err();
        assert_eq!(err, TableError::MixedEncoding { row: 3 });
        assert!(err.to_string().contains("row 3"));
        // And the other way round: a GBK file with UTF-8 rows pasted after it.
        let (gbk, _, _) = encoding_rs::GBK.encode("学号,姓名,班级\n0021010102,王小明,法学 2101\n");
        let bytes = [&gbk[..], "0021010103,李四光,法学 2101\n".as_bytes()].concat();
        assert_eq!(read_table("r.csv", &bytes).unwrap_err(), TableError::MixedEncoding { row: 3 });
    }

    #[test]
    fn two_files_joined_make_the_second_header_a_refused_row() {
        let t = csv("学号,姓名,班级\n0021,张三丰,法学 2101\n学号,姓名,班级\n0022,李四光,法学 2101\n");
        let p = problems(&t);
        assert!(p.iter().any(|x| x.contains("row 3") && x.contains("header row")), "{p:?}");
    }

    #[test]
    fn a_pinyin_name_column_beside_the_chinese_one_loses_and_the_summary_says_so() {
        let t = csv("学号,name,姓名,班级\n0021,Zhang Sanfeng,张三丰,法学 2101\n");
        let import = parse_roster(&t, RowPolicy::Strict).unwrap();
        assert_eq!(import.entries[0].xm, "张*丰", "the Chinese name, masked");
        assert!(
            import.notes.iter().any(|n| n.contains("used the Chinese column C") && n.contains("B \"name\"")),
            "{:?}",
            import.notes
        );
    }

    #[test]
    fn a_row_counter_headed_id_is_not_the_id_number() {
        let t = csv("id,学号,姓名,班级\n1,0021,张三丰,法学 2101\n2,0022,李四光,法学 2101\n");
        let import = parse_roster(&t, RowPolicy::Strict).unwrap();
        assert!(import.entries.iter().all(|e| e.zjhm.is_empty()), "no ID tail from a counter");
        assert!(import.notes.iter().any(|n| n.contains("columns not used: A \"id\"")), "{:?}", import.notes);
    }

    #[test]
    fn two_columns_for_the_same_field_are_refused_naming_both() {
        let t = csv("学号,姓名,班级,学号\n0021,张三丰,法学 2101,0099\n");
        let err = parse_roster(&t, RowPolicy::Strict).unwrap_err().to_string();
        assert!(err.contains("A \"学号\"") && err.contains("D \"学号\""), "{err}");
    }

    #[test]
    fn dates_in_the_student_number_column_are_refused() {
        let p = problems(&csv("学号,姓名,班级\n2021-01-01,张三丰,法学 2101\n"));
        assert!(p[0].contains("row 2") && p[0].contains("column A") && p[0].contains("is a date"), "{p:?}");
        let t = xlsx(|book| {
            let s = book.add_worksheet();
            header(s);
            let d = rust_xlsxwriter::ExcelDateTime::from_ymd(2021, 1, 1).unwrap();
            let f = rust_xlsxwriter::Format::new().set_num_format("yyyy/m/d");
            s.write_datetime_with_format(1, 0, &d, &f).unwrap();
            s.write_string(1, 1, "张三丰").unwrap();
            s.write_string(1, 3, "法学 2101").unwrap();
        });
        assert!(problems(&t)[0].contains("is a date"));
    }

    #[test]
    fn a_bom_or_zero_width_character_inside_a_cell_is_removed_and_counted() {
        let t = csv("学号,姓名,班级\n0021\u{200b},\u{feff}张三丰,法学 2101\n0022,李四光,法学\u{2060} 2101\n");
        let import = parse_roster(&t, RowPolicy::Strict).unwrap();
        assert_eq!(import.entries[0].xh, "0021");
        assert_eq!(import.entries[0].xm, "张*丰");
        assert_eq!(import.entries[1].class, "法学 2101");
        assert!(import.notes.iter().any(|n| n.contains("from 3 cells")), "{:?}", import.notes);
    }

    #[test]
    fn a_quoted_line_break_inside_a_name_is_refused() {
        let p = problems(&csv("学号,姓名,班级\n0021,\"张三\n丰\",法学 2101\n"));
        assert!(p[0].contains("row 2") && p[0].contains("column B") && p[0].contains("line break"), "{p:?}");
    }
}

/// Issue 26, item 3: a full ID number in any stored column, in any form the
/// guard reads (a name glued to it, fullwidth digits, dots), or a control
/// character, refuses the row with its row and column named and never shown.
#[test]
fn every_stored_column_goes_through_the_masking_guard() {
    let header = "学号,姓名,身份证号,班级,学院,专业,层次\n";
    let good = "0021010101,欧阳娜娜,36010219990101123x,法学 2101,法学院,法学,本科\n";
    let cases = [
        ("110105194912310021,王喆,440304199003072515,法学 2101,法学院,法学,本科", "A", "学号"),
        ("0021010102,王喆,440304199003072515,法学 2101,王喆110105194912310021,法学,本科", "E", "学院"),
        ("0021010102,王喆,440304199003072515,１１０１０５１９４９１２３１００２１,法学院,法学,本科", "D", "班级"),
        ("0021010102,王喆,440304199003072515,法学 2101,法学院,110105.19491231.0021,本科", "F", "专业"),
        ("0021010102,王喆,440304199003072515,法学 2101,法学院,法学,本\u{1b}[2J科", "G", "层次"),
    ];
    for (row, col, field) in cases {
        let text = format!("{header}{good}{row}\n");
        let err = parse_roster(&csv(&text), RowPolicy::Strict).unwrap_err();
        let RosterError::BadRows(problems) = &err else { panic!("{err}") };
        assert_eq!(problems.len(), 1, "{err}");
        assert_eq!(problems[0].row, 3, "{err}");
        assert!(problems[0].zh.contains(&format!("{col} 列（{field}）")), "{err}");
        let shown = err.to_string();
        for clear in ["110105194912310021", "王喆", "１１０１", "110105.1949"] {
            assert!(!shown.contains(clear), "{clear} shown in {shown}");
        }
    }
    // The ID column itself holds the ID: it is read for its tail, as before.
    assert_eq!(parse_roster(&csv(&format!("{header}{good}")), RowPolicy::Strict).unwrap().entries.len(), 1);
}
