//! Work spread over the machine's cores: parsing the sources a wave at a time, reading
//! a thousand migration files.

/// `work` applied to each item, on up to as many threads as the machine has; the
/// results in the items' order.
pub(crate) fn in_parallel<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    // (One item needs no thread, nor the question how many there may be: the answer
    // reads three files under /proc and /sys.)
    if items.len() <= 1 {
        return items.iter().map(work).collect();
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len()).min(8);
    if threads <= 1 {
        return items.iter().map(work).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break mine };
                        mine.push((i, work(item)));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}
