//! The caller's side of a model's profile: each thread appends the values
//! of its predictions to a buffer of its own (a lock no other caller takes;
//! the profiler takes it for a moment when it collects), so profiling costs
//! a prediction a few copied bytes and no sketching. The profiler thread
//! collects the buffers, sketches their values and writes the profile.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// A thread's buffer: past this many bytes (the profiler collects every
/// 100 ms, so only a stopped profiler lets one grow so far), a prediction's
/// values are not kept, and counted as lost.
const MAX_BUFFER: usize = 8 << 20;

type Buffer = Arc<Mutex<Vec<u8>>>;

/// What one model's predictions give its profile.
pub(crate) struct Collector {
    /// Tells apart the collectors a thread writes to.
    id: usize,
    /// Every thread's buffer.
    buffers: Mutex<Vec<Buffer>>,
    /// Predictions whose values a full buffer did not take.
    lost: AtomicU64,
}

thread_local! {
    /// This thread's buffer of each collector it wrote to.
    static BUFFERS: RefCell<Vec<(usize, Buffer)>> = const { RefCell::new(Vec::new()) };
}

impl Collector {
    pub(crate) fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        Collector {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            buffers: Mutex::new(Vec::new()),
            lost: AtomicU64::new(0),
        }
    }

    /// Runs `record` with this thread's buffer (made and registered on
    /// first use); it appends one prediction's values. A full buffer takes
    /// none, and the prediction is counted lost; so is one recorded while
    /// this thread is already recording (a field's `Serialize` that makes a
    /// prediction of its own), which would otherwise wait on itself.
    pub(crate) fn record(&self, record: impl FnOnce(&mut Vec<u8>)) {
        // `try_with`: a prediction made while this thread's locals are
        // being destroyed finds no buffer, and is counted lost.
        let recorded = BUFFERS.try_with(|buffers| {
            let Ok(mut buffers) = buffers.try_borrow_mut() else {
                return false;
            };
            let index = match buffers.iter().position(|(id, _)| *id == self.id) {
                Some(index) => index,
                None => {
                    let buffer: Buffer = Arc::default();
                    self.buffers
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(Arc::clone(&buffer));
                    buffers.push((self.id, buffer));
                    buffers.len() - 1
                }
            };
            let Some((_, buffer)) = buffers.get(index) else {
                return false;
            };
            let mut bytes = buffer.lock().unwrap_or_else(PoisonError::into_inner);
            if bytes.len() >= MAX_BUFFER {
                return false;
            }
            record(&mut bytes);
            true
        });
        if recorded != Ok(true) {
            self.lost.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Hands every thread's values to `sketch`, emptying the buffers; a
    /// buffer whose thread has ended is dropped once collected.
    pub(crate) fn collect(&self, spare: &mut Vec<u8>, mut sketch: impl FnMut(&[u8])) {
        let mut buffers = self.buffers.lock().unwrap_or_else(PoisonError::into_inner);
        buffers.retain(|buffer| {
            {
                let mut bytes = buffer.lock().unwrap_or_else(PoisonError::into_inner);
                std::mem::swap(&mut *bytes, spare);
            }
            sketch(spare);
            spare.clear();
            // Held here and by its thread; here only once the thread ended.
            Arc::strong_count(buffer) > 1
        });
    }

    /// Predictions counted lost since the last call.
    pub(crate) fn take_lost(&self) -> u64 {
        self.lost.swap(0, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::value;

    #[test]
    fn every_threads_values_are_collected_once_and_ended_threads_are_let_go() {
        let collector = Arc::new(Collector::new());
        let threads: Vec<_> = (0..4u8)
            .map(|thread| {
                let collector = Arc::clone(&collector);
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        collector.record(|bytes| {
                            value::append(bytes, thread, &value::ProfileValue::Number(1.0))
                        });
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("joins");
        }
        let mut seen = [0u32; 4];
        let mut spare = Vec::new();
        collector.collect(&mut spare, |bytes| {
            for (field, _) in value::decode(bytes) {
                seen[usize::from(field)] += 1;
            }
        });
        assert_eq!(seen, [10; 4]);
        assert!(
            collector.buffers.lock().expect("lock").is_empty(),
            "ended threads let go"
        );
        let mut again = 0;
        collector.collect(&mut spare, |bytes| again += value::decode(bytes).count());
        assert_eq!(again, 0, "collected once");
    }

    #[test]
    fn a_full_buffer_counts_the_prediction_lost() {
        let collector = Collector::new();
        collector.record(|bytes| bytes.resize(MAX_BUFFER, 0));
        collector.record(|bytes| value::append(bytes, 0, &value::ProfileValue::Number(1.0)));
        assert_eq!(collector.take_lost(), 1);
        assert_eq!(collector.take_lost(), 0);
    }
}
