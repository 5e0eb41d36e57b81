//! libsvm's kernel cache: columns of Q in single precision, least recently used first out,
//! within `cache_size` MB. Only the speed depends on it: a column is the same whether it
//! was cached or computed again. libsvm swaps two entries of every cached column at each
//! `swap_index` while shrinking; here a swap is logged and a column catches up on the swaps
//! it missed when it is next read (the same values: a column never read again costs nothing).

/// Where a column is in the circular LRU list; index `l` is the list's head.
#[derive(Clone, Copy, Default)]
struct Links {
    prev: usize,
    next: usize,
}

pub struct Cache {
    l: usize,
    /// Free room, in Qfloat values.
    size: i64,
    data: Vec<Vec<f32>>,
    links: Vec<Links>,
    /// Every `swap_index(i, j)` so far, as (min, max).
    swaps: Vec<(usize, usize)>,
    /// Per column: how many of `swaps` it has taken.
    synced: Vec<usize>,
}

/// The bytes of libsvm's `head_t` (two pointers, a pointer and an int, padded), which its
/// budget counts.
const HEAD_BYTES: i64 = 32;

impl Cache {
    pub fn new(l: usize, bytes: i64) -> Self {
        let mut size = bytes / 4;
        size -= l as i64 * HEAD_BYTES / 4;
        size = size.max(2 * l as i64);
        let mut links = vec![Links::default(); l + 1];
        links[l] = Links { prev: l, next: l };
        Cache { l, size, data: vec![Vec::new(); l], links, swaps: Vec::new(), synced: vec![0; l] }
    }

    fn lru_delete(&mut self, h: usize) {
        let Links { prev, next } = self.links[h];
        self.links[prev].next = next;
        self.links[next].prev = prev;
    }

    fn lru_insert(&mut self, h: usize) {
        let head = self.l;
        let prev = self.links[head].prev;
        self.links[h] = Links { prev, next: head };
        self.links[prev].next = h;
        self.links[head].prev = h;
    }

    fn drop_column(&mut self, h: usize) {
        self.lru_delete(h);
        self.size += self.data[h].len() as i64;
        self.data[h] = Vec::new();
    }

    /// Column `index` holding at least `len` values; returns it and where the values still to
    /// be filled start (`len` or more when none are).
    pub fn get_data(&mut self, index: usize, len: usize) -> (&mut [f32], usize) {
        self.catch_up(index);
        let have = self.data[index].len();
        if have > 0 {
            self.lru_delete(index);
        }
        let more = len as i64 - have as i64;
        let start = if more > 0 {
            while self.size < more {
                let old = self.links[self.l].next;
                self.drop_column(old);
            }
            self.data[index].resize(len, 0.0);
            self.size -= more;
            have
        } else {
            len
        };
        self.lru_insert(index);
        (&mut self.data[index][..], start)
    }

    /// The first `len` values of column `index`, which `get_data` has just filled.
    pub fn column(&self, index: usize, len: usize) -> &[f32] {
        &self.data[index][..len]
    }

    pub fn swap_index(&mut self, i: usize, j: usize) {
        if i == j {
            return;
        }
        let (hi, hj) = (!self.data[i].is_empty(), !self.data[j].is_empty());
        if hi {
            self.lru_delete(i);
        }
        if hj {
            self.lru_delete(j);
        }
        self.data.swap(i, j);
        self.synced.swap(i, j);
        if hj {
            self.lru_insert(i);
        }
        if hi {
            self.lru_insert(j);
        }
        self.swaps.push((i.min(j), i.max(j)));
    }

    /// Applies to column `h` the swaps it missed, as libsvm's `swap_index` would have when each
    /// was made: entries i and j exchanged where the column holds both, the column dropped where
    /// it holds i but not j (libsvm gives up on it).
    fn catch_up(&mut self, h: usize) {
        let from = std::mem::replace(&mut self.synced[h], self.swaps.len());
        for k in from..self.swaps.len() {
            let (i, j) = self.swaps[k];
            let len = self.data[h].len();
            if len > j {
                self.data[h].swap(i, j);
            } else if len > i {
                self.drop_column(h);
                return;
            }
        }
    }
}
