//! [`Producers`]: the line drain's per-thread buffers. Each thread that logs
//! appends its entries to a buffer of its own, which only that thread and
//! the writer thread ever lock (the writer just long enough to swap it for
//! an empty one), so no caller waits for a lock another caller holds, and
//! the lock a caller takes is almost always free and in its own cache.
//! A thread's entries reach the writer in the order the thread appended
//! them; across threads, the writer takes each buffer in turn.
//!
//! A thread registers its buffer with the channel the first time it logs
//! there (one short lock of the registry); the buffer is forgotten once its
//! thread has ended and the writer has taken what it held.

use crate::pipeline::entries::Entries;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// One thread's buffer.
#[derive(Default)]
pub(crate) struct Producer {
    entries: Mutex<Entries>,
}

impl Producer {
    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

thread_local! {
    /// This thread's buffers: (channel's id, buffer).
    static OWN: RefCell<Vec<(u64, Arc<Producer>)>> = const { RefCell::new(Vec::new()) };
}

/// The buffers of one channel's threads.
pub(crate) struct Producers {
    /// Names this channel among a thread's buffers: one number per channel
    /// made in the process, never reused.
    id: u64,
    registry: Mutex<Vec<Arc<Producer>>>,
    /// Counts changes of `registry`, so the writer copies it only then.
    generation: AtomicU64,
    /// For a thread that cannot use a buffer of its own: one whose
    /// thread-local storage is being torn down, or that logs while it
    /// registers. Such threads share this buffer and its lock.
    shared: Arc<Producer>,
}

impl Default for Producers {
    fn default() -> Self {
        static CHANNELS: AtomicU64 = AtomicU64::new(0);
        let shared = Arc::new(Producer::default());
        Producers {
            id: CHANNELS.fetch_add(1, Ordering::Relaxed),
            registry: Mutex::new(vec![Arc::clone(&shared)]),
            generation: AtomicU64::new(0),
            shared,
        }
    }
}

impl Producers {
    /// Appends to this thread's buffer with `append`.
    #[inline]
    pub(crate) fn append(&self, append: impl FnOnce(&mut Entries)) {
        let mut append = Some(append);
        let appended = OWN.try_with(|own| {
            let own = own.try_borrow().ok()?;
            let (_, producer) = own.iter().find(|(id, _)| *id == self.id)?;
            append.take().map(|append| append(&mut producer.lock()))
        });
        if let Ok(Some(())) = appended {
            return;
        }
        if let Some(append) = append {
            let producer = self.register().unwrap_or_else(|| Arc::clone(&self.shared));
            append(&mut producer.lock());
        }
    }

    /// Makes this thread's buffer, and forgets the buffers of channels
    /// that are gone; `None` if the thread cannot hold one.
    #[cold]
    fn register(&self) -> Option<Arc<Producer>> {
        let producer = Arc::new(Producer::default());
        OWN.try_with(|own| {
            let mut own = own.try_borrow_mut().ok()?;
            // A buffer only its thread holds belongs to a channel that is gone.
            own.retain(|(_, producer)| Arc::strong_count(producer) > 1);
            own.push((self.id, Arc::clone(&producer)));
            Some(())
        })
        .ok()
        .flatten()?;
        self.lock_registry().push(Arc::clone(&producer));
        self.generation.fetch_add(1, Ordering::Release);
        Some(producer)
    }

    fn lock_registry(&self) -> MutexGuard<'_, Vec<Arc<Producer>>> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Swaps every buffer holding entries for an empty one from `spare`,
    /// and pushes the full ones onto `taken`; says how many records they
    /// hold. `known` is the writer's copy of the registry, `seen` the
    /// generation it was copied at.
    pub(crate) fn take(
        &self,
        known: &mut Vec<Arc<Producer>>,
        seen: &mut u64,
        spare: &mut Vec<Entries>,
        taken: &mut Vec<Entries>,
    ) -> usize {
        let generation = self.generation.load(Ordering::Acquire);
        if generation != *seen {
            known.clone_from(&self.lock_registry());
            *seen = generation;
        }
        let mut records = 0;
        let mut ended = false;
        for producer in known.iter() {
            let mut entries = producer.lock();
            if entries.records() == 0 {
                // Held by the registry and by `known` only: its thread ended.
                ended |= Arc::strong_count(producer) == 2;
                continue;
            }
            records += entries.records();
            let empty = spare.pop().unwrap_or_default();
            taken.push(std::mem::replace(&mut *entries, empty));
        }
        if ended {
            self.forget_ended(known, seen);
        }
        records
    }

    /// Forgets the empty buffers of threads that ended.
    #[cold]
    fn forget_ended(&self, known: &mut Vec<Arc<Producer>>, seen: &mut u64) {
        let mut registry = self.lock_registry();
        known.clear();
        // A buffer held by the registry alone belongs to a thread that
        // ended; one that is not empty waits for the next take.
        registry
            .retain(|producer| Arc::strong_count(producer) > 1 || producer.lock().records() > 0);
        self.generation.fetch_add(1, Ordering::Release);
        known.clone_from(&registry);
        *seen = self.generation.load(Ordering::Acquire);
    }

    /// How many buffers the channel holds (threads that logged and are
    /// still running or still have entries, and the shared one).
    #[cfg(test)]
    pub(crate) fn buffers(&self) -> usize {
        self.lock_registry().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::entries::Entry;

    /// The writer's side: what a take finds, as lines.
    #[derive(Default)]
    struct Writer {
        known: Vec<Arc<Producer>>,
        seen: u64,
        spare: Vec<Entries>,
    }

    impl Writer {
        fn take(&mut self, producers: &Producers) -> (usize, Vec<Vec<u8>>) {
            let mut taken = Vec::new();
            let records =
                producers.take(&mut self.known, &mut self.seen, &mut self.spare, &mut taken);
            let lines = taken
                .iter()
                .flat_map(Entries::iter)
                .map(|entry| match entry {
                    Entry::Line(line) => line.to_vec(),
                    Entry::Captured { .. } => Vec::new(),
                })
                .collect();
            for mut entries in taken {
                entries.clear(0);
                self.spare.push(entries);
            }
            (records, lines)
        }
    }

    #[test]
    fn each_threads_entries_arrive_in_its_order() {
        let producers = Arc::new(Producers::default());
        let threads: Vec<_> = (0..3u8)
            .map(|thread| {
                let producers = Arc::clone(&producers);
                std::thread::spawn(move || {
                    for line in 0..100u8 {
                        producers.append(|entries| entries.push_line(&[thread, line]));
                    }
                })
            })
            .collect();
        let mut writer = Writer::default();
        let mut seen: Vec<Vec<u8>> = Vec::new();
        let mut records = 0;
        for thread in threads {
            assert!(thread.join().is_ok());
            let (count, lines) = writer.take(&producers);
            records += count;
            seen.extend(lines);
        }
        let (count, lines) = writer.take(&producers);
        records += count;
        seen.extend(lines);
        assert_eq!(records, 300);
        for thread in 0..3u8 {
            let order: Vec<u8> = seen
                .iter()
                .filter(|line| line[0] == thread)
                .map(|line| line[1])
                .collect();
            assert_eq!(order, (0..100).collect::<Vec<_>>(), "thread {thread}");
        }
    }

    #[test]
    fn a_buffer_is_forgotten_once_its_thread_ended_and_it_was_taken() {
        let producers = Arc::new(Producers::default());
        let mut writer = Writer::default();
        assert_eq!(producers.buffers(), 1, "the shared one");
        producers.append(|entries| entries.push_line(b"main"));
        let other = {
            let producers = Arc::clone(&producers);
            std::thread::spawn(move || producers.append(|entries| entries.push_line(b"other")))
        };
        assert!(other.join().is_ok());
        assert_eq!(producers.buffers(), 3);
        // The ended thread's line is taken first, then its buffer goes.
        let (records, lines) = writer.take(&producers);
        assert_eq!(records, 2);
        assert_eq!(lines.len(), 2);
        assert_eq!(writer.take(&producers).0, 0);
        assert_eq!(producers.buffers(), 2, "the shared one and this thread's");
        producers.append(|entries| entries.push_line(b"again"));
        assert_eq!(writer.take(&producers), (1, vec![b"again".to_vec()]));
    }

    #[test]
    fn a_thread_keeps_one_buffer_per_channel_and_drops_those_of_channels_gone() {
        let first = Producers::default();
        first.append(|entries| entries.push_line(b"1"));
        let (second_id, count) = {
            let second = Producers::default();
            second.append(|entries| entries.push_line(b"2"));
            second.append(|entries| entries.push_line(b"3"));
            (second.id, OWN.with(|own| own.borrow().len()))
        };
        assert!(count >= 2);
        let third = Producers::default();
        third.append(|entries| entries.push_line(b"4"));
        let ids: Vec<u64> = OWN.with(|own| own.borrow().iter().map(|(id, _)| *id).collect());
        assert!(
            !ids.contains(&second_id),
            "the gone channel's buffer is dropped"
        );
        assert!(ids.contains(&first.id) && ids.contains(&third.id));
    }
}
