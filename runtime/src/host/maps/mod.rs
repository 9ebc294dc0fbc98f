//! eBPF maps in userspace: shared between the embedder and programs, safe
//! under concurrent runs.
//!
//! A [`Map`] is a cheap handle (`Arc` inside): clone it into as many loaded
//! programs and threads as needed. Every kind keeps its values in stable,
//! 8-byte aligned host memory, so `bpf_map_lookup_elem` can return a real
//! pointer that the program dereferences directly.
//!
//! # Userspace semantics
//! - **Array** (`BPF_MAP_TYPE_ARRAY`): `max_entries` values, keys are `u32`
//!   indexes, all present and zero at creation, never deleted
//!   (`delete` is `EINVAL`, as in the kernel).
//! - **Hash** (`BPF_MAP_TYPE_HASH`): at most `max_entries` entries; inserting
//!   into a full map is `E2BIG`. Updating an existing key rewrites its value
//!   in place.
//! - **LRU hash** (`BPF_MAP_TYPE_LRU_HASH`): like hash, but inserting into a
//!   full map evicts the least recently used entry (looked up or updated
//!   longest ago). Eviction scans the map: fine for the small maps eBPF
//!   programs use.
//! - **Per-CPU** (`PERCPU_ARRAY`, `PERCPU_HASH`, `LRU_PERCPU_HASH`): cranebpf
//!   runs every program on **one virtual CPU**: `bpf_get_smp_processor_id`
//!   returns 0 and a per-CPU map holds exactly one value per key, so it
//!   behaves as its shared counterpart, and the embedder API reads and writes
//!   that single value.
//! - **Ring buffer** (`BPF_MAP_TYPE_RINGBUF`): `max_entries` is the capacity
//!   in bytes (a power of two, as in the kernel); every record costs an 8-byte
//!   header plus its length rounded up to 8. The embedder consumes records
//!   with [`Map::ringbuf_pop`].
//! - **Program array** (`BPF_MAP_TYPE_PROG_ARRAY`): `max_entries` slots
//!   with 4-byte keys and 4-byte values; a slot is empty or holds a
//!   **program index**: the position of a program in
//!   [`Object::programs`](crate::host::elf::Object::programs) (the kernel stores a
//!   program fd). The embedder fills slots with [`Map::set_prog`] /
//!   [`Map::update`] and empties them with [`Map::clear_prog`] /
//!   [`Map::delete`]; the loader fills them from a BTF `values` initialiser.
//!   Programs only pass the map to `bpf_tail_call` (see
//!   [`crate::host::kernel::tail`]): looking a slot up from a program gives NULL,
//!   updating or deleting gives `-EINVAL` (the kernel's verifier refuses
//!   both).
//! - Every other kernel map type is refused with
//!   [`MapError::UnsupportedType`].
//!
//! # Value lifetime
//! A value pointer given to a program stays valid for the rest of that run,
//! even if the entry is deleted or evicted meanwhile: lookups hand out a
//! [`ValueRef`] that the run keeps until it ends, so deleted memory is freed
//! only after the last run that saw it. (A deleted entry's pointer then points
//! at a detached copy: later lookups do not see its writes.)
//!
//! Concurrent runs and the embedder see each other's plain writes to a value
//! without synchronisation, exactly like kernel maps; programs use atomic
//! instructions for shared counters.

mod perf;
mod ringbuf;
mod value;

use perf::PerfStore;
pub use perf::{PerfError, CURRENT_CPU as PERF_CURRENT_CPU};
use ringbuf::RingStore;
pub(crate) use value::ValueBuf;
pub use value::ValueRef;

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// The largest memory one map may take (keys, values and ring buffer bytes).
pub const MAX_MAP_BYTES: u64 = 256 << 20;
/// What one hash entry costs beyond its key and value bytes: its table slot
/// (and the table's spare capacity), the key's and the value's allocations
/// and their headers. Measured: 4.8M entries of a 4-byte key and an 8-byte
/// value took about 1.44 GB, 300 bytes each (issue 17), where only the 12
/// key and value bytes were counted.
pub const HASH_ENTRY_OVERHEAD: u64 = 288;
/// The default budget for all the maps of one object
/// ([`crate::host::elf::ObjectLimits`]): 1 GiB.
pub const DEFAULT_MAPS_BUDGET: u64 = 1 << 30;
/// The largest key, as in the kernel (`MAX_BPF_STACK`).
pub const MAX_KEY_SIZE: u32 = 512;
/// The largest value (the kernel's `KMALLOC_MAX_SIZE` is larger; this keeps
/// hostile objects from making us allocate gigabytes).
pub const MAX_VALUE_SIZE: u32 = 1 << 20;

/// Map kinds cranebpf implements, with the kernel's `enum bpf_map_type` ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MapType {
    /// `BPF_MAP_TYPE_HASH` (1).
    Hash,
    /// `BPF_MAP_TYPE_ARRAY` (2).
    Array,
    /// `BPF_MAP_TYPE_PROG_ARRAY` (3): slots naming programs, for tail calls.
    ProgArray,
    /// `BPF_MAP_TYPE_PERCPU_HASH` (5): one virtual CPU, see the module docs.
    PerCpuHash,
    /// `BPF_MAP_TYPE_PERCPU_ARRAY` (6): one virtual CPU.
    PerCpuArray,
    /// `BPF_MAP_TYPE_LRU_HASH` (9).
    LruHash,
    /// `BPF_MAP_TYPE_LRU_PERCPU_HASH` (10): one virtual CPU.
    LruPerCpuHash,
    /// `BPF_MAP_TYPE_RINGBUF` (27).
    RingBuf,
    /// `BPF_MAP_TYPE_PERF_EVENT_ARRAY` (4): a perf buffer per CPU slot, for
    /// `bpf_perf_event_output` (see [`Map::perf_open`]).
    PerfEventArray,
}

impl MapType {
    /// The kernel's id for this type.
    pub const fn kernel_id(self) -> u32 {
        match self {
            MapType::Hash => 1,
            MapType::Array => 2,
            MapType::ProgArray => 3,
            MapType::PerCpuHash => 5,
            MapType::PerCpuArray => 6,
            MapType::LruHash => 9,
            MapType::LruPerCpuHash => 10,
            MapType::RingBuf => 27,
            MapType::PerfEventArray => 4,
        }
    }

    /// The type with kernel id `id`, or `None` if cranebpf does not implement it.
    pub const fn from_kernel_id(id: u32) -> Option<MapType> {
        Some(match id {
            1 => MapType::Hash,
            2 => MapType::Array,
            3 => MapType::ProgArray,
            5 => MapType::PerCpuHash,
            6 => MapType::PerCpuArray,
            9 => MapType::LruHash,
            10 => MapType::LruPerCpuHash,
            27 => MapType::RingBuf,
            4 => MapType::PerfEventArray,
            _ => return None,
        })
    }

    /// The kernel's name for a map type id, for error messages.
    pub fn kernel_name(id: u32) -> &'static str {
        const NAMES: [&str; 34] = [
            "UNSPEC",
            "HASH",
            "ARRAY",
            "PROG_ARRAY",
            "PERF_EVENT_ARRAY",
            "PERCPU_HASH",
            "PERCPU_ARRAY",
            "STACK_TRACE",
            "CGROUP_ARRAY",
            "LRU_HASH",
            "LRU_PERCPU_HASH",
            "LPM_TRIE",
            "ARRAY_OF_MAPS",
            "HASH_OF_MAPS",
            "DEVMAP",
            "SOCKMAP",
            "CPUMAP",
            "XSKMAP",
            "SOCKHASH",
            "CGROUP_STORAGE",
            "REUSEPORT_SOCKARRAY",
            "PERCPU_CGROUP_STORAGE",
            "QUEUE",
            "STACK",
            "SK_STORAGE",
            "DEVMAP_HASH",
            "STRUCT_OPS",
            "RINGBUF",
            "INODE_STORAGE",
            "TASK_STORAGE",
            "BLOOM_FILTER",
            "USER_RINGBUF",
            "CGRP_STORAGE",
            "ARENA",
        ];
        NAMES.get(id as usize).copied().unwrap_or("unknown")
    }

    fn is_array(self) -> bool {
        matches!(self, MapType::Array | MapType::PerCpuArray)
    }

    fn is_lru(self) -> bool {
        matches!(self, MapType::LruHash | MapType::LruPerCpuHash)
    }
}

/// A map's shape, as `struct bpf_map_def` / BTF map definitions give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MapDef {
    /// The kind.
    pub map_type: MapType,
    /// Key size in bytes (4 for arrays, 0 for ring buffers).
    pub key_size: u32,
    /// Value size in bytes (0 for ring buffers).
    pub value_size: u32,
    /// Capacity: entries, or bytes for a ring buffer.
    pub max_entries: u32,
    /// `map_flags` (kept for inspection; cranebpf ignores them).
    pub flags: u32,
}

impl MapDef {
    /// The most host memory a map of this definition can take, counted as
    /// [`Map::new`] allocates it: an array's values, a program array's
    /// 4-byte slots, a ring buffer's bytes, or a full hash map's entries at
    /// their key, value and [`HASH_ENTRY_OVERHEAD`] bytes. Saturates.
    pub fn cost(&self) -> u64 {
        let n = u64::from(self.max_entries);
        let stride = u64::from(self.value_size).div_ceil(8).max(1) * 8;
        match self.map_type {
            MapType::RingBuf => n,
            MapType::ProgArray => n.saturating_mul(4),
            t if t.is_array() => n.saturating_mul(stride),
            _ => n.saturating_mul(stride + u64::from(self.key_size) + HASH_ENTRY_OVERHEAD),
        }
    }
}

/// `flags` of `bpf_map_update_elem`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateFlags {
    /// `BPF_ANY` (0): create or update.
    Any,
    /// `BPF_NOEXIST` (1): create only.
    NoExist,
    /// `BPF_EXIST` (2): update only.
    Exist,
}

impl UpdateFlags {
    /// From the helper's `flags` argument.
    pub fn from_raw(flags: u64) -> Option<UpdateFlags> {
        match flags {
            0 => Some(UpdateFlags::Any),
            1 => Some(UpdateFlags::NoExist),
            2 => Some(UpdateFlags::Exist),
            _ => None,
        }
    }
}

/// Why a map operation failed. [`MapError::errno`] gives the negative kernel
/// errno a helper returns for it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MapError {
    /// No entry for the key (`ENOENT`).
    NotFound,
    /// `BPF_NOEXIST` on an existing key (`EEXIST`).
    Exists,
    /// The map is full (`E2BIG`).
    Full,
    /// Key of the wrong size, array index out of range, bad flags, or an
    /// operation the type forbids, such as deleting from an array (`EINVAL`).
    Invalid {
        /// What was wrong.
        reason: String,
    },
    /// The ring buffer has no room for the record (`EAGAIN`).
    NoSpace,
    /// Creating the map would take the object's maps past their memory
    /// budget ([`crate::host::elf::ObjectLimits`]; `ENOMEM`).
    OverBudget {
        /// What this map may take ([`MapDef::cost`]).
        cost: u64,
        /// What the object's earlier maps may take.
        used: u64,
        /// The budget for all of them.
        budget: u64,
    },
    /// A map type cranebpf does not implement.
    UnsupportedType {
        /// The kernel's map type id.
        id: u32,
        /// The kernel's name for it.
        name: &'static str,
    },
    /// A definition the kernel would refuse or that is too large to allocate.
    BadDef {
        /// What was wrong.
        reason: String,
    },
}

impl MapError {
    /// The negative errno the kernel's helper returns for this error.
    pub fn errno(&self) -> i64 {
        match self {
            MapError::NotFound => -2,
            MapError::Exists => -17,
            MapError::Full => -7,
            MapError::NoSpace => -11,
            MapError::OverBudget { .. } => -12,
            MapError::Invalid { .. }
            | MapError::UnsupportedType { .. }
            | MapError::BadDef { .. } => -22,
        }
    }

    fn invalid(reason: impl Into<String>) -> MapError {
        MapError::Invalid {
            reason: reason.into(),
        }
    }
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapError::NotFound => f.write_str("no such key"),
            MapError::Exists => f.write_str("key already exists"),
            MapError::Full => f.write_str("map is full"),
            MapError::NoSpace => f.write_str("ring buffer is full"),
            MapError::OverBudget { cost, used, budget } => write!(
                f,
                "may take {cost} bytes, but the object's maps may take {budget} bytes in all \
                 and earlier maps take {used} (raise ObjectLimits::map_bytes)"
            ),
            MapError::Invalid { reason } => write!(f, "invalid map operation: {reason}"),
            MapError::UnsupportedType { id, name } => {
                write!(f, "map type {id} (BPF_MAP_TYPE_{name}) is not supported")
            }
            MapError::BadDef { reason } => write!(f, "bad map definition: {reason}"),
        }
    }
}

impl std::error::Error for MapError {}

/// A map: a shared handle (clones refer to the same map).
#[derive(Clone)]
pub struct Map {
    inner: Arc<MapInner>,
}

struct MapInner {
    name: String,
    def: MapDef,
    store: Store,
}

enum Store {
    /// All values in one buffer; value `i` at `i * stride`.
    Array {
        buf: Arc<ValueBuf>,
        stride: usize,
    },
    Hash(Mutex<HashStore>),
    RingBuf(Mutex<RingStore>),
    PerfEvents(Mutex<PerfStore>),
    /// Program array slots: a program index, or [`NO_PROG`].
    ProgArray(ProgSlots),
}

/// The value of an empty program array slot.
const NO_PROG: u32 = u32::MAX;

/// Slots per chunk of a program array.
const PROG_CHUNK: usize = 1024;

/// A program array's slots, allocated a chunk of [`PROG_CHUNK`] at a time
/// when a slot in it is first set: a 64M-slot array costs its chunk table
/// until programs go in (issue 17: sixteen such arrays filled eagerly took
/// 4.2 GB for a 3 KB object).
struct ProgSlots {
    len: u32,
    chunks: Box<[OnceLock<Box<[AtomicU32]>>]>,
}

impl ProgSlots {
    fn new(len: u32) -> ProgSlots {
        ProgSlots {
            len,
            chunks: (0..(len as usize).div_ceil(PROG_CHUNK))
                .map(|_| OnceLock::new())
                .collect(),
        }
    }

    /// Slot `i`, if its chunk exists (`Err` if out of range).
    fn get(&self, i: u32) -> Result<Option<&AtomicU32>, MapError> {
        if i >= self.len {
            return Err(MapError::NotFound);
        }
        let i = i as usize;
        Ok(self.chunks[i / PROG_CHUNK]
            .get()
            .map(|c| &c[i % PROG_CHUNK]))
    }

    /// Slot `i`, allocating its chunk (`Err` if out of range).
    fn get_or_create(&self, i: u32) -> Result<&AtomicU32, MapError> {
        if i >= self.len {
            return Err(MapError::NotFound);
        }
        let i = i as usize;
        let chunk = self.chunks[i / PROG_CHUNK]
            .get_or_init(|| (0..PROG_CHUNK).map(|_| AtomicU32::new(NO_PROG)).collect());
        Ok(&chunk[i % PROG_CHUNK])
    }

    /// The set slots, by index.
    fn set(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.chunks.iter().enumerate().flat_map(|(c, chunk)| {
            chunk.get().into_iter().flat_map(move |slots| {
                slots.iter().enumerate().filter_map(move |(j, p)| {
                    let p = p.load(Ordering::SeqCst);
                    (p != NO_PROG).then_some(((c * PROG_CHUNK + j) as u32, p))
                })
            })
        })
    }
}

#[derive(Default)]
struct HashStore {
    /// foldhash's keyed hash (random per process, like the kernel's seeded
    /// jhash), which costs a fraction of SipHash on short keys.
    entries: HashMap<Box<[u8]>, HashEntry, foldhash::quality::RandomState>,
    /// Use counter for LRU eviction.
    tick: u64,
}

struct HashEntry {
    value: Arc<ValueBuf>,
    last_used: u64,
}

/// A perf event array's store: key and value sizes 4 as the kernel
/// requires; `max_entries` 0 means one slot per CPU, as libbpf fills it in
/// (one virtual CPU here).
fn perf_store(def: &mut MapDef) -> Result<Store, MapError> {
    if def.key_size != 4 || def.value_size != 4 {
        return Err(MapError::BadDef {
            reason: format!(
                "perf event array key and value sizes ({}, {}) must be 4",
                def.key_size, def.value_size
            ),
        });
    }
    if def.max_entries == 0 {
        def.max_entries = 1;
    }
    if u64::from(def.max_entries) > 4096 {
        return Err(MapError::BadDef {
            reason: format!("perf event array of {} slots (1..=4096)", def.max_entries),
        });
    }
    Ok(Store::PerfEvents(Mutex::new(PerfStore::new(
        def.max_entries,
    ))))
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (map
/// operations never leave a store half-updated).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("name", &self.inner.name)
            .field("def", &self.inner.def)
            .finish_non_exhaustive()
    }
}

impl Map {
    /// Creates an empty map (arrays start with every value zero).
    pub fn new(name: impl Into<String>, mut def: MapDef) -> Result<Map, MapError> {
        let bad = |reason: String| Err(MapError::BadDef { reason });
        let store = if def.map_type == MapType::RingBuf {
            let n = def.max_entries;
            if n < 8 || !n.is_power_of_two() || u64::from(n) > MAX_MAP_BYTES {
                return bad(format!(
                    "ring buffer size {n} must be a power of two between 8 and {MAX_MAP_BYTES}"
                ));
            }
            Store::RingBuf(Mutex::new(RingStore::new(n as usize)))
        } else if def.map_type == MapType::PerfEventArray {
            perf_store(&mut def)?
        } else if def.map_type == MapType::ProgArray {
            if def.key_size != 4 || def.value_size != 4 {
                return bad(format!(
                    "program array key and value sizes ({}, {}) must be 4",
                    def.key_size, def.value_size
                ));
            }
            if def.max_entries == 0 || u64::from(def.max_entries) * 4 > MAX_MAP_BYTES {
                return bad(format!(
                    "program array of {} slots (1..={})",
                    def.max_entries,
                    MAX_MAP_BYTES / 4
                ));
            }
            Store::ProgArray(ProgSlots::new(def.max_entries))
        } else {
            if def.value_size == 0 || def.value_size > MAX_VALUE_SIZE {
                return bad(format!(
                    "value size {} out of 1..={MAX_VALUE_SIZE}",
                    def.value_size
                ));
            }
            if def.max_entries == 0 {
                return bad("max_entries is 0".into());
            }
            let stride = u64::from(def.value_size).div_ceil(8) * 8;
            if def.map_type.is_array() {
                if def.key_size != 4 {
                    return bad(format!("array key size {} is not 4", def.key_size));
                }
                let total = stride * u64::from(def.max_entries);
                if total > MAX_MAP_BYTES {
                    return bad(format!("array of {total} bytes exceeds {MAX_MAP_BYTES}"));
                }
                Store::Array {
                    buf: ValueBuf::zeroed(total as usize),
                    stride: stride as usize,
                }
            } else {
                if def.key_size == 0 || def.key_size > MAX_KEY_SIZE {
                    return bad(format!(
                        "key size {} out of 1..={MAX_KEY_SIZE}",
                        def.key_size
                    ));
                }
                let total = def.cost();
                if total > MAX_MAP_BYTES {
                    return bad(format!(
                        "hash of up to {total} bytes ({HASH_ENTRY_OVERHEAD} per entry besides \
                         key and value) exceeds {MAX_MAP_BYTES}"
                    ));
                }
                Store::Hash(Mutex::new(HashStore::default()))
            }
        };
        Ok(Map {
            inner: Arc::new(MapInner {
                name: name.into(),
                def,
                store,
            }),
        })
    }

    /// A single-entry array holding `init` (how global data sections
    /// `.data`, `.rodata`, `.bss` become maps, as libbpf does it).
    pub fn global_data(name: impl Into<String>, init: &[u8]) -> Result<Map, MapError> {
        let size = u32::try_from(init.len().max(1))
            .ok()
            .filter(|&s| s <= MAX_VALUE_SIZE)
            .ok_or_else(|| MapError::BadDef {
                reason: format!("global data of {} bytes is too large", init.len()),
            })?;
        let map = Map::new(
            name,
            MapDef {
                map_type: MapType::Array,
                key_size: 4,
                value_size: size,
                max_entries: 1,
                flags: 0,
            },
        )?;
        if let Store::Array { buf, .. } = &map.inner.store {
            buf.write(0, init);
        }
        Ok(map)
    }

    /// The map's name (its symbol or section name in the object).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The definition.
    pub fn def(&self) -> MapDef {
        self.inner.def
    }

    /// Whether two handles refer to the same map.
    pub fn same(&self, other: &Map) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    fn check_key(&self, key: &[u8]) -> Result<(), MapError> {
        if key.len() != self.inner.def.key_size as usize {
            return Err(MapError::invalid(format!(
                "key of {} bytes, map {} has {}-byte keys",
                key.len(),
                self.inner.name,
                self.inner.def.key_size
            )));
        }
        Ok(())
    }

    fn array_index(&self, key: &[u8]) -> Result<usize, MapError> {
        self.check_key(key)?;
        let idx = u32::from_le_bytes([key[0], key[1], key[2], key[3]]);
        if idx >= self.inner.def.max_entries {
            return Err(MapError::NotFound);
        }
        Ok(idx as usize)
    }

    /// The live value for `key`, for a program: its memory stays valid while
    /// the returned handle exists. `None` if absent (or a ring buffer).
    pub fn lookup_ref(&self, key: &[u8]) -> Option<ValueRef> {
        let len = self.inner.def.value_size as usize;
        match &self.inner.store {
            Store::Array { buf, stride } => {
                let i = self.array_index(key).ok()?;
                Some(ValueRef {
                    buf: buf.clone(),
                    off: i * stride,
                    len,
                })
            }
            Store::Hash(h) => {
                self.check_key(key).ok()?;
                let mut h = lock(h);
                h.tick += 1;
                let tick = h.tick;
                let e = h.entries.get_mut(key)?;
                e.last_used = tick;
                Some(ValueRef {
                    buf: e.value.clone(),
                    off: 0,
                    len,
                })
            }
            Store::RingBuf(_) | Store::ProgArray(_) | Store::PerfEvents(_) => None,
        }
    }

    /// A copy of the value for `key`, or `None` if absent (for a program
    /// array: the slot's program index, if the slot is set).
    pub fn lookup(&self, key: &[u8]) -> Option<Vec<u8>> {
        if let Store::ProgArray(_) = &self.inner.store {
            let i = self.array_index(key).ok()?;
            return self.prog_at(i as u32).map(|p| p.to_le_bytes().to_vec());
        }
        if let Store::Hash(h) = &self.inner.store {
            // Copied under the lock, so an update (which writes under it)
            // never leaves a torn copy.
            self.check_key(key).ok()?;
            let len = self.inner.def.value_size as usize;
            let mut h = lock(h);
            h.tick += 1;
            let tick = h.tick;
            let e = h.entries.get_mut(key)?;
            e.last_used = tick;
            return Some(e.value.read(0, len));
        }
        self.lookup_ref(key).map(|v| v.to_vec())
    }

    /// Creates or updates the entry for `key` (the value is copied).
    pub fn update(&self, key: &[u8], value: &[u8], flags: UpdateFlags) -> Result<(), MapError> {
        let def = self.inner.def;
        if value.len() != def.value_size as usize {
            return Err(MapError::invalid(format!(
                "value of {} bytes, map {} has {}-byte values",
                value.len(),
                self.inner.name,
                def.value_size
            )));
        }
        match &self.inner.store {
            Store::Array { buf, stride } => {
                let i = self.array_index(key).map_err(|e| match e {
                    MapError::NotFound => MapError::Full,
                    e => e,
                })?;
                if flags == UpdateFlags::NoExist {
                    return Err(MapError::Exists);
                }
                buf.write(i * stride, value);
                Ok(())
            }
            Store::Hash(h) => {
                self.check_key(key)?;
                let mut h = lock(h);
                h.tick += 1;
                let tick = h.tick;
                if let Some(e) = h.entries.get_mut(key) {
                    if flags == UpdateFlags::NoExist {
                        return Err(MapError::Exists);
                    }
                    // A new buffer replaces the old one, as the kernel
                    // replaces the element: a program still holding the
                    // old value's pointer (on another thread, or before
                    // this update) reads it whole, never half-updated.
                    let buf = ValueBuf::zeroed(def.value_size as usize);
                    buf.write(0, value);
                    e.value = buf;
                    e.last_used = tick;
                    return Ok(());
                }
                if flags == UpdateFlags::Exist {
                    return Err(MapError::NotFound);
                }
                if h.entries.len() >= def.max_entries as usize {
                    if !def.map_type.is_lru() {
                        return Err(MapError::Full);
                    }
                    let oldest = h
                        .entries
                        .iter()
                        .min_by_key(|(_, e)| e.last_used)
                        .map(|(k, _)| k.clone());
                    if let Some(k) = oldest {
                        h.entries.remove(&k);
                    }
                }
                let buf = ValueBuf::zeroed(def.value_size as usize);
                buf.write(0, value);
                h.entries.insert(
                    key.into(),
                    HashEntry {
                        value: buf,
                        last_used: tick,
                    },
                );
                Ok(())
            }
            Store::RingBuf(_) => Err(MapError::invalid("update on a ring buffer")),
            Store::PerfEvents(_) => Err(MapError::invalid(
                "update on a perf event array (the host opens slots with Map::perf_open)",
            )),
            Store::ProgArray(_) => {
                let i = self.array_index(key).map_err(|e| match e {
                    MapError::NotFound => MapError::Full,
                    e => e,
                })?;
                if flags == UpdateFlags::NoExist {
                    return Err(MapError::Exists);
                }
                let prog = u32::from_le_bytes([value[0], value[1], value[2], value[3]]);
                self.set_prog(i as u32, prog)
            }
        }
    }

    /// Deletes the entry for `key`. Arrays refuse (`EINVAL`), as in the kernel.
    pub fn delete(&self, key: &[u8]) -> Result<(), MapError> {
        match &self.inner.store {
            Store::Array { .. } => Err(MapError::invalid("delete from an array map")),
            Store::Hash(h) => {
                self.check_key(key)?;
                match lock(h).entries.remove(key) {
                    Some(_) => Ok(()),
                    None => Err(MapError::NotFound),
                }
            }
            Store::RingBuf(_) | Store::PerfEvents(_) => Err(MapError::invalid(format!(
                "delete on a {:?} map",
                self.inner.def.map_type
            ))),
            Store::ProgArray(_) => {
                let i = self.array_index(key)?;
                match self.clear_prog(i as u32)? {
                    Some(_) => Ok(()),
                    None => Err(MapError::NotFound),
                }
            }
        }
    }

    /// Puts program `prog` (an index into
    /// [`Object::programs`](crate::host::elf::Object::programs)) into slot `index`
    /// of a program array. Which programs a run can actually enter is
    /// decided when it tail-calls (see [`crate::host::kernel::tail`]).
    pub fn set_prog(&self, index: u32, prog: u32) -> Result<(), MapError> {
        if prog == NO_PROG {
            return Err(MapError::invalid(format!(
                "program index {prog:#x} is reserved"
            )));
        }
        self.prog_slots()?
            .get_or_create(index)?
            .store(prog, Ordering::SeqCst);
        Ok(())
    }

    /// Empties slot `index` of a program array; returns the program it held.
    pub fn clear_prog(&self, index: u32) -> Result<Option<u32>, MapError> {
        let old = match self.prog_slots()?.get(index)? {
            Some(slot) => slot.swap(NO_PROG, Ordering::SeqCst),
            None => NO_PROG,
        };
        Ok((old != NO_PROG).then_some(old))
    }

    /// The program in slot `index` of a program array (`None` if the slot is
    /// empty, out of range, or the map is not a program array).
    pub fn prog_at(&self, index: u32) -> Option<u32> {
        let p = self
            .prog_slots()
            .ok()?
            .get(index)
            .ok()??
            .load(Ordering::SeqCst);
        (p != NO_PROG).then_some(p)
    }

    fn prog_slots(&self) -> Result<&ProgSlots, MapError> {
        match &self.inner.store {
            Store::ProgArray(slots) => Ok(slots),
            _ => Err(MapError::invalid(format!(
                "map {} is not a program array",
                self.inner.name
            ))),
        }
    }

    /// A snapshot of every entry, sorted by key bytes (arrays: every index,
    /// as a little-endian `u32` key). Empty for ring buffers.
    pub fn entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let len = self.inner.def.value_size as usize;
        match &self.inner.store {
            Store::Array { buf, stride } => (0..self.inner.def.max_entries)
                .map(|i| (i.to_le_bytes().to_vec(), buf.read(i as usize * stride, len)))
                .collect(),
            Store::Hash(h) => {
                let h = lock(h);
                let mut v: Vec<_> = h
                    .entries
                    .iter()
                    .map(|(k, e)| (k.to_vec(), e.value.read(0, len)))
                    .collect();
                drop(h);
                v.sort();
                v
            }
            Store::RingBuf(_) | Store::PerfEvents(_) => Vec::new(),
            Store::ProgArray(slots) => slots
                .set()
                .map(|(i, p)| (i.to_le_bytes().to_vec(), p.to_le_bytes().to_vec()))
                .collect(),
        }
    }

    /// Calls `f` on every entry in [`Map::entries`]'s order without
    /// building the list: an array's values are read one at a time into
    /// one buffer, so a 256 MiB array costs one value of memory (issue 17:
    /// the report built all 32M entries, 3.7 GB). Hash maps are copied
    /// first (their entries were paid for when they were inserted).
    pub fn visit_entries(&self, mut f: impl FnMut(&[u8], &[u8])) {
        match &self.inner.store {
            Store::Array { buf, stride } => {
                let mut v = vec![0u8; self.inner.def.value_size as usize];
                for i in 0..self.inner.def.max_entries {
                    buf.read_into(i as usize * stride, &mut v);
                    f(&i.to_le_bytes(), &v);
                }
            }
            _ => {
                for (k, v) in self.entries() {
                    f(&k, &v);
                }
            }
        }
    }

    /// Whether `self` and `other` hold the same entries ([`Map::entries`]
    /// equal), compared without building either list for arrays.
    pub fn same_entries(&self, other: &Map) -> bool {
        match (&self.inner.store, &other.inner.store) {
            (Store::Array { buf: a, stride: sa }, Store::Array { buf: b, stride: sb }) => {
                let (da, db) = (self.inner.def, other.inner.def);
                if (da.max_entries, da.value_size) != (db.max_entries, db.value_size) {
                    return false;
                }
                let len = da.value_size as usize;
                let (mut x, mut y) = (vec![0u8; len], vec![0u8; len]);
                (0..da.max_entries as usize).all(|i| {
                    a.read_into(i * sa, &mut x);
                    b.read_into(i * sb, &mut y);
                    x == y
                })
            }
            _ => self.entries() == other.entries(),
        }
    }

    /// Number of entries (arrays: `max_entries`; program arrays: set slots;
    /// ring buffers: records waiting).
    pub fn len(&self) -> usize {
        match &self.inner.store {
            Store::Array { .. } => self.inner.def.max_entries as usize,
            Store::Hash(h) => lock(h).entries.len(),
            Store::RingBuf(r) => lock(r).records(),
            Store::PerfEvents(p) => lock(p).records(),
            Store::ProgArray(slots) => slots.set().count(),
        }
    }

    /// Whether [`Map::len`] is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn ring(&self) -> Result<&Mutex<RingStore>, MapError> {
        match &self.inner.store {
            Store::RingBuf(r) => Ok(r),
            _ => Err(MapError::invalid(format!(
                "map {} is not a ring buffer",
                self.inner.name
            ))),
        }
    }

    fn perf(&self) -> Result<&Mutex<PerfStore>, MapError> {
        match &self.inner.store {
            Store::PerfEvents(p) => Ok(p),
            _ => Err(MapError::invalid(format!(
                "map {} is not a perf event array",
                self.inner.name
            ))),
        }
    }

    /// Opens slot `cpu` of a perf event array for output, as a perf buffer
    /// reader does; output to a slot nobody opened fails with `-ENOENT`.
    pub fn perf_open(&self, cpu: u32) -> Result<(), MapError> {
        if lock(self.perf()?).open(cpu) {
            Ok(())
        } else {
            Err(MapError::invalid(format!(
                "perf event array {} has no slot {cpu}",
                self.inner.name
            )))
        }
    }

    /// `bpf_perf_event_output` from CPU `cpu` with `flags` (the slot index,
    /// or [`PERF_CURRENT_CPU`]): queues `data`, or says why not as the
    /// kernel does.
    pub fn perf_output(&self, cpu: u32, flags: u64, data: &[u8]) -> Result<(), PerfError> {
        match self.perf() {
            Ok(p) => lock(p).output(cpu, flags, data),
            Err(_) => Err(PerfError::BadFlags),
        }
    }

    /// Takes the oldest perf record of any slot, with its slot.
    pub fn perf_pop(&self) -> Result<Option<(u32, Vec<u8>)>, MapError> {
        Ok(lock(self.perf()?).pop())
    }

    /// Records lost to full perf buffers.
    pub fn perf_lost(&self) -> Result<u64, MapError> {
        Ok(lock(self.perf()?).lost())
    }

    /// Takes the oldest submitted ring buffer record, if any.
    pub fn ringbuf_pop(&self) -> Result<Option<Vec<u8>>, MapError> {
        Ok(lock(self.ring()?).pop())
    }

    /// Appends a record (`bpf_ringbuf_output`).
    pub fn ringbuf_output(&self, data: &[u8]) -> Result<(), MapError> {
        let mut r = lock(self.ring()?);
        r.reserve(data.len())?;
        r.commit(data.to_vec());
        Ok(())
    }

    /// Reserves room for a `size`-byte record (`bpf_ringbuf_reserve`): the
    /// returned buffer is the record until [`Map::ringbuf_submit`] or
    /// [`Map::ringbuf_discard`].
    pub(crate) fn ringbuf_reserve(&self, size: usize) -> Result<ValueRef, MapError> {
        lock(self.ring()?).reserve(size)?;
        Ok(ValueRef {
            buf: ValueBuf::zeroed(size),
            off: 0,
            len: size,
        })
    }

    /// Publishes a reserved record.
    pub(crate) fn ringbuf_submit(&self, rec: &ValueRef) -> Result<(), MapError> {
        lock(self.ring()?).commit(rec.to_vec());
        Ok(())
    }

    /// Gives back a reserved record's room.
    pub(crate) fn ringbuf_discard(&self, rec: &ValueRef) -> Result<(), MapError> {
        lock(self.ring()?).unreserve(rec.len());
        Ok(())
    }
}

/// A fresh zeroed buffer (for run drivers' shadow contexts).
pub(crate) fn value_buf(len: usize) -> Arc<ValueBuf> {
    ValueBuf::zeroed(len)
}

#[cfg(test)]
mod tests;
