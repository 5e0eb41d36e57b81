//! libsvm's kernel cache: columns of Q in single precision, least recently used first out,
//! within `cache_size` MB. Only the speed depends on it: a column is the same whether it
//! was cached or computed again.

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
        Cache { l, size, data: vec![Vec::new(); l], links }
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
        if hj {
            self.lru_insert(i);
        }
        if hi {
            self.lru_insert(j);
        }
        let (i, j) = (i.min(j), i.max(j));
        let mut h = self.links[self.l].next;
        while h != self.l {
            let next = self.links[h].next;
            let len = self.data[h].len();
            if len > i {
                if len > j {
                    self.data[h].swap(i, j);
                } else {
                    self.drop_column(h); // give up, as libsvm does
                }
            }
            h = next;
        }
    }
}
