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
}
