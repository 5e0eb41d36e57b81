//! scikit-learn's `simultaneous_sort` (introsort, median-of-three pivot, three-way or two-way
//! partition), ported exactly. The decision tree sorts a node's rows with the three-way one
//! (`_splitter.pyx`), because the order of tied rows decides the order of floating-point sums,
//! and so which of two equal splits wins; `knn` sorts its neighbours with the two-way one
//! (`utils/_sorting.pyx`'s default), which decides the order of neighbours tied in distance.

pub fn simultaneous_sort<T: Copy + PartialOrd>(values: &mut [T], indices: &mut [usize]) {
    let n = values.len();
    if n == 0 {
        return;
    }
    let maxd = 2 * (n as f64).log2() as isize;
    introsort_3way(values, indices, maxd);
}

fn introsort_3way<T: Copy + PartialOrd>(mut values: &mut [T], mut indices: &mut [usize], mut maxd: isize) {
    while values.len() > 15 {
        if maxd <= 0 {
            heapsort(values, indices);
            return;
        }
        maxd -= 1;
        let pivot = median3(values);
        let (mut i, mut l, mut r) = (0, 0, values.len());
        while i < r {
            if values[i] < pivot {
                swap(values, indices, i, l);
                i += 1;
                l += 1;
            } else if values[i] > pivot {
                r -= 1;
                swap(values, indices, i, r);
            } else {
                i += 1;
            }
        }
        introsort_3way(&mut values[..l], &mut indices[..l], maxd);
        values = &mut values[r..];
        indices = &mut indices[r..];
    }
    insertion_sort(values, indices);
}

/// Sorts `rows` by their values in `column` (the values, in order, into `sorted`) as a plain
/// sort of (value, row) keys, when that gives what [`simultaneous_sort`] would: when no two
/// values are equal, since distinct values have one sorted order, or, with `any_order`, when the
/// caller does not mind the order of equal values. Returns false, `rows` untouched, when values
/// tie (and not `any_order`) or one is NaN (which the introsort orders its own way).
pub fn sort_if_distinct(
    column: &[f32],
    rows: &mut [usize],
    sorted: &mut Vec<f32>,
    keys: &mut Vec<u64>,
    scratch: &mut Vec<u64>,
    any_order: bool,
) -> bool {
    keys.clear();
    keys.extend(rows.iter().map(|&r| (u64::from(order_key(column[r])) << 32) | r as u64));
    if keys.len() < RADIX_FROM {
        keys.sort_unstable();
    } else {
        radix_sort(keys, scratch);
    }
    let value = |k: u64| column[(k & 0xFFFF_FFFF) as usize];
    // A NaN sorts below -inf or above +inf.
    let (Some(&first), Some(&last)) = (keys.first(), keys.last()) else { return true };
    if value(first).is_nan() || value(last).is_nan() {
        return false;
    }
    // -0.0 and 0.0 have two keys but are equal.
    if !any_order && keys.windows(2).any(|w| value(w[0]) == value(w[1])) {
        return false;
    }
    sorted.clear();
    sorted.extend(keys.iter().map(|&k| value(k)));
    for (r, &k) in rows.iter_mut().zip(keys.iter()) {
        *r = (k & 0xFFFF_FFFF) as usize;
    }
    true
}

/// From this many keys on, a radix sort beats a comparison sort.
const RADIX_FROM: usize = 512;

/// Sorts keys by their upper 32 bits (the value's key), stably: three passes of 11 bits, each
/// a counting sort from `keys` to `scratch` or back. Keys with equal upper bits keep their
/// order, which callers accept only when no two values are equal, or when any order does.
fn radix_sort(keys: &mut Vec<u64>, scratch: &mut Vec<u64>) {
    const BITS: u32 = 11;
    const BUCKETS: usize = 1 << BITS;
    let mut counts = vec![[0u32; BUCKETS]; 3];
    for &k in keys.iter() {
        for (pass, count) in counts.iter_mut().enumerate() {
            count[((k >> (32 + BITS * pass as u32)) as usize) & (BUCKETS - 1)] += 1;
        }
    }
    scratch.clear();
    scratch.resize(keys.len(), 0);
    for (pass, count) in counts.iter_mut().enumerate() {
        let shift = 32 + BITS * pass as u32;
        // All keys in one bucket: the pass would keep their order.
        if count.iter().any(|&c| c as usize == keys.len()) {
            continue;
        }
        let mut next = 0;
        for c in count.iter_mut() {
            (*c, next) = (next, next + *c);
        }
        for &k in keys.iter() {
            let bucket = &mut count[((k >> shift) as usize) & (BUCKETS - 1)];
            scratch[*bucket as usize] = k;
            *bucket += 1;
        }
        std::mem::swap(keys, scratch);
    }
}

/// An f32's bits as an unsigned key in the order of the values (negatives flipped).
fn order_key(v: f32) -> u32 {
    let bits = v.to_bits();
    if bits & 0x8000_0000 != 0 {
        !bits
    } else {
        bits | 0x8000_0000
    }
}

/// `utils/_sorting.pyx`'s `simultaneous_sort` with its default two-way partition
/// (`[x <= pivot] [pivot] [x >= pivot]`, the pivot from `inplace_median3`).
pub fn simultaneous_sort_2way<T: Copy + PartialOrd>(values: &mut [T], indices: &mut [usize]) {
    let n = values.len();
    if n == 0 {
        return;
    }
    let maxd = 2 * (n as f64).log2() as isize;
    introsort_2way(values, indices, maxd);
}

fn introsort_2way<T: Copy + PartialOrd>(mut values: &mut [T], mut indices: &mut [usize], mut maxd: isize) {
    while values.len() > 15 {
        if maxd <= 0 {
            heapsort(values, indices);
            return;
        }
        maxd -= 1;
        let n = values.len();
        let pivot = inplace_median3(values, indices);
        let (mut i, mut j) = (1, n - 2);
        loop {
            while i <= j && values[i] < pivot {
                i += 1;
            }
            while i <= j && values[j] > pivot {
                j -= 1;
            }
            if i >= j {
                break;
            }
            swap(values, indices, i, j);
            i += 1;
            j -= 1;
        }
        swap(values, indices, i, n - 1);
        let (left_v, right_v) = values.split_at_mut(i + 1);
        let (left_i, right_i) = indices.split_at_mut(i + 1);
        introsort_2way(&mut left_v[..i], &mut left_i[..i], maxd);
        values = right_v;
        indices = right_i;
    }
    insertion_sort(values, indices);
}

/// The smallest of the first, middle and last values moved first, their median (the pivot)
/// last.
fn inplace_median3<T: Copy + PartialOrd>(values: &mut [T], indices: &mut [usize]) -> T {
    let n = values.len();
    let mid = n / 2;
    if values[0] > values[n - 1] {
        swap(values, indices, 0, n - 1);
    }
    if values[n - 1] > values[mid] {
        swap(values, indices, n - 1, mid);
        if values[0] > values[n - 1] {
            swap(values, indices, 0, n - 1);
        }
    }
    values[n - 1]
}

fn heapsort<T: Copy + PartialOrd>(values: &mut [T], indices: &mut [usize]) {
    let n = values.len();
    if n < 2 {
        return;
    }
    let mut start = (n - 2) / 2;
    loop {
        sift_down(values, indices, start, n);
        if start == 0 {
            break;
        }
        start -= 1;
    }
    let mut end = n - 1;
    while end > 0 {
        swap(values, indices, 0, end);
        sift_down(values, indices, 0, end);
        end -= 1;
    }
}

fn sift_down<T: Copy + PartialOrd>(values: &mut [T], indices: &mut [usize], start: usize, end: usize) {
    let mut root = start;
    loop {
        let child = root * 2 + 1;
        let mut maxind = root;
        if child < end && values[maxind] < values[child] {
            maxind = child;
        }
        if child + 1 < end && values[maxind] < values[child + 1] {
            maxind = child + 1;
        }
        if maxind == root {
            return;
        }
        swap(values, indices, root, maxind);
        root = maxind;
    }
}

fn median3<T: Copy + PartialOrd>(values: &[T]) -> T {
    let n = values.len();
    let (a, b, c) = (values[0], values[n / 2], values[n - 1]);
    if a < b {
        if b < c {
            b
        } else if a < c {
            c
        } else {
            a
        }
    } else if b < c {
        if a < c {
            a
        } else {
            c
        }
    } else {
        b
    }
}

fn swap<T: Copy + PartialOrd>(values: &mut [T], indices: &mut [usize], i: usize, j: usize) {
    values.swap(i, j);
    indices.swap(i, j);
}

fn insertion_sort<T: Copy + PartialOrd>(values: &mut [T], indices: &mut [usize]) {
    for i in 1..values.len() {
        let (v, idx) = (values[i], indices[i]);
        let mut j = i;
        while j > 0 && values[j - 1] > v {
            values[j] = values[j - 1];
            indices[j] = indices[j - 1];
            j -= 1;
        }
        values[j] = v;
        indices[j] = idx;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_values_and_carries_indices() {
        let mut v: Vec<f32> = (0..100).map(|i| ((i * 37) % 17) as f32).collect();
        let original = v.clone();
        let mut idx: Vec<usize> = (0..100).collect();
        simultaneous_sort(&mut v, &mut idx);
        assert!(v.windows(2).all(|w| w[0] <= w[1]));
        assert!(idx.iter().zip(&v).all(|(&i, &x)| original[i] == x));
    }

    /// Where `sort_if_distinct` sorts (no ties, or ties allowed in any order), its rows and
    /// values are the introsort's: the same permutation without ties, the same values with.
    #[test]
    fn a_sort_of_distinct_values_is_the_introsorts() {
        let mut rs = crate::random::RandomState::new(11);
        let (mut sorted, mut keys, mut scratch) = (Vec::new(), Vec::new(), Vec::new());
        for n in [0, 1, 2, 15, 16, 17, 100, 1000, 5000] {
            for levels in [0.0, 3.0, 1e9] {
                let mut column: Vec<f32> = (0..n + 7)
                    .map(|_| {
                        let u = rs.next_f64() * 2.0 - 1.0;
                        if levels > 0.0 {
                            ((u * levels).round() / levels) as f32
                        } else {
                            u as f32 * 1e-30
                        }
                    })
                    .collect();
                if n == 100 {
                    column[3] = -0.0;
                    column[9] = 0.0;
                }
                let rows: Vec<usize> = rs.permutation(n + 7).into_iter().take(n).collect();
                let mut intro_values: Vec<f32> = rows.iter().map(|&r| column[r]).collect();
                let mut intro_rows = rows.clone();
                simultaneous_sort(&mut intro_values, &mut intro_rows);
                let distinct = intro_values.windows(2).all(|w| w[0] != w[1]);
                for any_order in [false, true] {
                    let mut fast_rows = rows.clone();
                    let sorted_ok =
                        sort_if_distinct(&column, &mut fast_rows, &mut sorted, &mut keys, &mut scratch, any_order);
                    assert_eq!(sorted_ok, distinct || any_order, "n {n} levels {levels}");
                    if !sorted_ok {
                        assert_eq!(fast_rows, rows);
                    } else if distinct {
                        assert_eq!((&fast_rows, &sorted), (&intro_rows, &intro_values), "n {n} levels {levels}");
                    } else {
                        assert_eq!(sorted, intro_values);
                        assert!(fast_rows.iter().zip(&sorted).all(|(&r, &v)| column[r] == v));
                    }
                }
            }
        }
        let mut rows = vec![0, 1, 2];
        assert!(!sort_if_distinct(&[1.0, f32::NAN, 0.0], &mut rows, &mut sorted, &mut keys, &mut scratch, true));
        assert_eq!(rows, [0, 1, 2]);
    }
}
