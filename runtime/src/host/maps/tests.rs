use super::*;

fn def(map_type: MapType, key_size: u32, value_size: u32, max_entries: u32) -> MapDef {
    MapDef {
        map_type,
        key_size,
        value_size,
        max_entries,
        flags: 0,
    }
}

#[test]
fn array_starts_zero_and_refuses_delete() {
    let m = Map::new("a", def(MapType::Array, 4, 8, 3)).unwrap();
    assert_eq!(m.lookup(&1u32.to_le_bytes()), Some(vec![0; 8]));
    assert_eq!(m.lookup(&3u32.to_le_bytes()), None); // index == max_entries
    m.update(&2u32.to_le_bytes(), &7u64.to_le_bytes(), UpdateFlags::Any)
        .unwrap();
    assert_eq!(
        m.lookup(&2u32.to_le_bytes()),
        Some(7u64.to_le_bytes().to_vec())
    );
    assert_eq!(
        m.update(&2u32.to_le_bytes(), &[0; 8], UpdateFlags::NoExist),
        Err(MapError::Exists)
    );
    assert_eq!(m.delete(&0u32.to_le_bytes()).unwrap_err().errno(), -22);
    assert_eq!(m.entries().len(), 3);
    // Values are 8-byte strided and 8-aligned.
    let a = m.lookup_ref(&0u32.to_le_bytes()).unwrap().addr();
    let b = m.lookup_ref(&1u32.to_le_bytes()).unwrap().addr();
    assert_eq!((a % 8, b - a), (0, 8));
}

#[test]
fn hash_flags_full_and_delete() {
    let m = Map::new("h", def(MapType::Hash, 2, 4, 2)).unwrap();
    m.update(b"ab", b"1111", UpdateFlags::NoExist).unwrap();
    assert_eq!(
        m.update(b"ab", b"2222", UpdateFlags::NoExist),
        Err(MapError::Exists)
    );
    assert_eq!(
        m.update(b"cd", b"2222", UpdateFlags::Exist),
        Err(MapError::NotFound)
    );
    m.update(b"cd", b"2222", UpdateFlags::Any).unwrap();
    assert_eq!(
        m.update(b"ef", b"3333", UpdateFlags::Any),
        Err(MapError::Full)
    );
    assert_eq!(MapError::Full.errno(), -7);
    m.update(b"ab", b"9999", UpdateFlags::Exist).unwrap();
    assert_eq!(
        m.entries(),
        vec![
            (b"ab".to_vec(), b"9999".to_vec()),
            (b"cd".to_vec(), b"2222".to_vec())
        ]
    );
    m.delete(b"ab").unwrap();
    assert_eq!(m.delete(b"ab"), Err(MapError::NotFound));
    assert_eq!(m.len(), 1);
    assert!(matches!(
        m.update(b"abc", b"1111", UpdateFlags::Any),
        Err(MapError::Invalid { .. })
    ));
}

#[test]
fn deleted_value_stays_valid_while_referenced() {
    let m = Map::new("h", def(MapType::Hash, 1, 8, 4)).unwrap();
    m.update(b"k", &5u64.to_le_bytes(), UpdateFlags::Any)
        .unwrap();
    let r = m.lookup_ref(b"k").unwrap();
    m.delete(b"k").unwrap();
    // The handle keeps the detached value alive and readable.
    assert_eq!(r.to_vec(), 5u64.to_le_bytes().to_vec());
    assert_eq!(m.lookup(b"k"), None);
}

#[test]
fn lru_evicts_least_recently_used() {
    let m = Map::new("l", def(MapType::LruHash, 1, 1, 2)).unwrap();
    m.update(b"a", b"1", UpdateFlags::Any).unwrap();
    m.update(b"b", b"2", UpdateFlags::Any).unwrap();
    m.lookup(b"a"); // b is now the least recently used
    m.update(b"c", b"3", UpdateFlags::Any).unwrap();
    assert_eq!(m.lookup(b"b"), None);
    assert_eq!(m.lookup(b"a"), Some(b"1".to_vec()));
    assert_eq!(m.lookup(b"c"), Some(b"3".to_vec()));
}

#[test]
fn ringbuf_accounts_header_and_padding() {
    let m = Map::new("r", def(MapType::RingBuf, 0, 0, 32)).unwrap();
    // 8 + 8 = 16 bytes each: two fit in 32, a third does not.
    m.ringbuf_output(b"hello").unwrap();
    let r = m.ringbuf_reserve(3).unwrap();
    assert_eq!(m.ringbuf_output(b"x"), Err(MapError::NoSpace));
    m.ringbuf_discard(&r).unwrap();
    m.ringbuf_output(b"x").unwrap();
    assert_eq!(m.ringbuf_pop().unwrap(), Some(b"hello".to_vec()));
    assert_eq!(m.ringbuf_pop().unwrap(), Some(b"x".to_vec()));
    assert_eq!(m.ringbuf_pop().unwrap(), None);
    assert!(Map::new("r", def(MapType::RingBuf, 0, 0, 24)).is_err());
}

#[test]
fn huge_and_empty_definitions_are_refused() {
    assert!(matches!(
        Map::new("a", def(MapType::Array, 4, 1 << 20, u32::MAX)),
        Err(MapError::BadDef { .. })
    ));
    assert!(Map::new("a", def(MapType::Hash, 0, 4, 1)).is_err());
    assert!(Map::new("a", def(MapType::Hash, 4, 0, 1)).is_err());
    assert!(Map::new("a", def(MapType::Array, 8, 4, 1)).is_err());
    assert_eq!(MapType::from_kernel_id(7), None);
    assert_eq!(MapType::kernel_name(7), "STACK_TRACE");
    assert_eq!(MapType::from_kernel_id(4), Some(MapType::PerfEventArray));
    assert!(Map::new("e", def(MapType::PerfEventArray, 4, 8, 4)).is_err());
    assert!(Map::new("e", def(MapType::PerfEventArray, 4, 4, 5000)).is_err());
    // max_entries 0: one slot per CPU, as libbpf fills it in (one here).
    let e = Map::new("e", def(MapType::PerfEventArray, 4, 4, 0)).unwrap();
    assert_eq!(e.def().max_entries, 1);
    assert!(Map::new("p", def(MapType::ProgArray, 4, 8, 4)).is_err());
    assert!(Map::new("p", def(MapType::ProgArray, 4, 4, 0)).is_err());
}

#[test]
fn prog_array_slots() {
    assert_eq!(MapType::from_kernel_id(3), Some(MapType::ProgArray));
    let m = Map::new("p", def(MapType::ProgArray, 4, 4, 4)).unwrap();
    assert!(m.is_empty() && m.entries().is_empty());
    m.set_prog(1, 7).unwrap();
    assert_eq!(m.prog_at(1), Some(7));
    assert_eq!(m.prog_at(0), None);
    assert_eq!(m.prog_at(4), None);
    assert_eq!(m.set_prog(4, 0), Err(MapError::NotFound));
    assert!(m.set_prog(0, u32::MAX).is_err());
    // The generic API: values are little-endian u32 program indexes.
    m.update(&2u32.to_le_bytes(), &9u32.to_le_bytes(), UpdateFlags::Any)
        .unwrap();
    assert_eq!(
        m.lookup(&2u32.to_le_bytes()),
        Some(9u32.to_le_bytes().to_vec())
    );
    assert!(m.lookup_ref(&2u32.to_le_bytes()).is_none()); // never to programs
    assert_eq!(
        m.update(&4u32.to_le_bytes(), &0u32.to_le_bytes(), UpdateFlags::Any),
        Err(MapError::Full)
    );
    assert_eq!(m.len(), 2);
    assert_eq!(
        m.entries(),
        vec![
            (1u32.to_le_bytes().to_vec(), 7u32.to_le_bytes().to_vec()),
            (2u32.to_le_bytes().to_vec(), 9u32.to_le_bytes().to_vec()),
        ]
    );
    assert_eq!(m.clear_prog(1), Ok(Some(7)));
    assert_eq!(m.delete(&1u32.to_le_bytes()), Err(MapError::NotFound));
    m.delete(&2u32.to_le_bytes()).unwrap();
    assert!(m.is_empty());
    // Not a program array.
    let a = Map::new("a", def(MapType::Array, 4, 4, 4)).unwrap();
    assert!(a.set_prog(0, 0).is_err());
    assert_eq!(a.prog_at(0), None);
}

#[test]
fn global_data_is_one_entry_array() {
    let m = Map::global_data(".data", b"abc").unwrap();
    assert_eq!(m.def().value_size, 3);
    assert_eq!(m.lookup(&0u32.to_le_bytes()), Some(b"abc".to_vec()));
}

#[test]
fn concurrent_updates_from_threads() {
    let m = Map::new("h", def(MapType::Hash, 4, 4, 1000)).unwrap();
    std::thread::scope(|s| {
        for t in 0..4u32 {
            let m = m.clone();
            s.spawn(move || {
                for i in 0..100u32 {
                    let k = t * 1000 + i;
                    m.update(&k.to_le_bytes(), &i.to_le_bytes(), UpdateFlags::Any)
                        .unwrap();
                }
            });
        }
    });
    assert_eq!(m.len(), 400);
}
