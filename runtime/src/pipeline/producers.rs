//! [`Producers`]: the line drain's per-thread buffers, each with one
//! producer (the thread that logs) and one consumer (the writer thread),
//! and no lock between them: a wait-free single-producer, single-consumer
//! ring of bytes (the `rtrb` crate). A thread writes each record as a
//! frame (see `entries.rs`) and publishes it with one store of the ring's
//! write position; the writer reads every ring up to that position. No
//! caller waits for another, nor for the writer, and publishing a record
//! costs no lock (which would stall the caller until its stores reached
//! the cache shared with the writer: measured, this was most of what the
//! caller spent in the queue when each thread's buffer was behind a lock).
//!
//! **Order.** Each record carries the number its admission into the
//! channel gave it (the count of admissions, from the same compare-and-swap
//! that admits it: see `room.rs`): the numbers follow the order in which
//! the records were logged, across threads too (a record logged after
//! another, say after joining the thread that logged it, gets a higher
//! number; records logged at the same moment by two threads get numbers in
//! some order). The writer merges the buffers by number, and a record waits
//! while one numbered before it is not published yet (its thread is
//! between admitting and publishing it). So records are written in the
//! order they were logged.
//!
//! A thread's frames reach the writer in the order the thread wrote them.
//! A ring that is full is followed by a new one: the thread hands the new
//! ring's reading end to the writer (under a lock taken only then) and
//! never writes into the old one again; the writer reads the old one to
//! its end before it moves on. A captured record names its template by a
//! slot of its thread's buffer: the first record of a template is preceded
//! by a frame that says the next template handed over (again under a lock
//! taken only then) fills that slot; a slot whose model is gone is reused.
//!
//! A thread registers its buffer the first time it logs into the channel
//! (one short lock of the registry); the buffer is forgotten once its
//! thread has ended and the writer has read it. A thread that cannot keep
//! a buffer of its own (its thread-local storage is being torn down) uses
//! one shared under a lock.

use crate::pipeline::entries::{self, Frame};
use crate::record::template::RecordTemplate;
use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// A ring's size, unless a frame needs more: about 400 prediction records.
const RING_BYTES: usize = 64 << 10;

/// A thread's staging buffer larger than this is not kept.
const RETAINED_STAGING_BYTES: usize = 64 << 10;

/// Gives back a staging buffer's memory once a large frame made it grow.
fn let_go_if_large(buffer: &mut Vec<u8>) {
    if buffer.capacity() > RETAINED_STAGING_BYTES {
        *buffer = Vec::new();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One thread's buffer, held by the thread ([`Writing`]) and by the
/// registry; its reading side is the writer thread's alone.
pub(crate) struct Producer {
    /// Locked by the writer thread only.
    reading: Mutex<Reading>,
    /// Reading ends of the rings the thread went on to, oldest first.
    next_rings: Mutex<VecDeque<rtrb::Consumer<u8>>>,
    /// Templates handed over, in the order of their frames.
    next_templates: Mutex<VecDeque<Arc<RecordTemplate>>>,
}

/// The writer's side of a buffer.
struct Reading {
    ring: rtrb::Consumer<u8>,
    /// The rings taken from `next_rings`, to read after `ring`.
    later: VecDeque<rtrb::Consumer<u8>>,
    /// Frames that wrapped around the ring's end, made whole.
    scratch: Vec<u8>,
    /// The templates the frames name, by slot.
    templates: Vec<Option<Arc<RecordTemplate>>>,
}

/// An entry for the writer.
pub(crate) enum Entry<'a> {
    /// A line, written as it is.
    Line(&'a [u8]),
    /// A captured record, formatted with its template (`None` if the frame
    /// names a slot that holds none: never written by this crate).
    Captured {
        template: Option<&'a RecordTemplate>,
        capture: &'a [u8],
    },
}

impl Producer {
    /// The writer's side, on the oldest ring that has unread frames (or on
    /// the newest ring).
    fn reading(&self) -> MutexGuard<'_, Reading> {
        let mut reading = lock(&self.reading);
        // Handed over after the thread's last write into the ring before:
        // once taken, that ring's frames are all seen.
        let handed = &mut *lock(&self.next_rings);
        reading.later.extend(handed.drain(..));
        while reading.ring.is_empty() {
            match reading.later.pop_front() {
                Some(next) => reading.ring = next,
                None => break,
            }
        }
        reading
    }

    /// Whether the thread has written nothing the writer has not read.
    fn is_drained(&self) -> bool {
        self.reading().ring.is_empty()
    }
}

impl Reading {
    /// Whether the ring was read to its end and a newer one follows.
    fn can_move_on(&self) -> bool {
        self.ring.is_empty() && !self.later.is_empty()
    }
}

/// One buffer's unread frames, as the writer merges them.
struct Stream<'a> {
    bytes: &'a [u8],
    /// How many of `bytes` were read.
    read: usize,
    /// The next record's frame and its length, once found.
    next: Option<(Frame<'a>, usize)>,
    templates: &'a mut Vec<Option<Arc<RecordTemplate>>>,
    handed: &'a Mutex<VecDeque<Arc<RecordTemplate>>>,
}

impl Stream<'_> {
    /// The number of the next record, once the templates before it are
    /// taken in; `None` when there is none.
    fn next_number(&mut self) -> Option<u32> {
        if let Some((frame, _)) = &self.next {
            return frame.sequence();
        }
        loop {
            let (frame, length) = entries::next_frame(self.bytes.get(self.read..)?)?;
            if let Frame::Template { slot } = frame {
                let slot = slot as usize;
                if self.templates.len() <= slot {
                    self.templates.resize(slot + 1, None);
                }
                self.templates[slot] = lock(self.handed).pop_front();
                self.read += length;
            } else {
                let number = frame.sequence();
                self.next = Some((frame, length));
                return number;
            }
        }
    }

    /// Hands the record [`Self::next_number`] found to `each`.
    fn hand_on(&mut self, each: &mut dyn FnMut(Entry<'_>)) {
        let Some((frame, length)) = self.next.take() else {
            return;
        };
        self.read += length;
        match frame {
            Frame::Line { line, .. } => each(Entry::Line(line)),
            Frame::Captured { slot, capture, .. } => {
                let template = self.templates.get(slot as usize).and_then(Option::as_deref);
                each(Entry::Captured { template, capture });
            }
            Frame::Template { .. } => {}
        }
    }
}

/// What the writer keeps between reads.
#[derive(Default)]
pub(crate) struct Readers {
    /// Its copy of the registry of buffers.
    known: Vec<Arc<Producer>>,
    /// The registry's generation it was copied at.
    seen: u64,
    /// The number of the next record to hand on (counted round at 2^32).
    next: u32,
    /// The buffers' next records, by number (kept for its memory).
    heads: BinaryHeap<Reverse<(u32, usize)>>,
}

impl Readers {
    /// Reads every buffer's frames once, in order of their numbers, up to
    /// the first number not published yet; says how many records there
    /// were, and whether a buffer read to the end of a ring has a newer
    /// one to read.
    fn read_once(&mut self, each: &mut dyn FnMut(Entry<'_>)) -> (usize, bool) {
        // Most reads find one thread's records: those are read without
        // gathering the others' (no allocation).
        let mut unread = self
            .known
            .iter()
            .filter(|producer| !producer.reading().ring.is_empty());
        match (unread.next(), unread.next()) {
            (None, _) => (0, false),
            (Some(producer), None) => {
                let producer = Arc::clone(producer);
                self.read_one(&producer, each)
            }
            (Some(_), Some(_)) => self.read_all(each),
        }
    }

    /// [`Self::read_once`] when only `producer` has unread frames.
    fn read_one(&mut self, producer: &Producer, each: &mut dyn FnMut(Entry<'_>)) -> (usize, bool) {
        let mut reading = producer.reading();
        let Reading {
            ring,
            scratch,
            templates,
            ..
        } = &mut *reading;
        let Ok(chunk) = ring.read_chunk(ring.slots()) else {
            return (0, false);
        };
        let mut stream = Stream {
            bytes: whole(&chunk, scratch),
            read: 0,
            next: None,
            templates,
            handed: &producer.next_templates,
        };
        let records = merge(
            std::slice::from_mut(&mut stream),
            &mut self.next,
            &mut self.heads,
            each,
        );
        let read = stream.read;
        chunk.commit(read);
        let_go_if_large(&mut reading.scratch);
        (records, reading.can_move_on())
    }

    /// [`Self::read_once`] over every buffer.
    fn read_all(&mut self, each: &mut dyn FnMut(Entry<'_>)) -> (usize, bool) {
        let Readers {
            known, next, heads, ..
        } = self;
        let mut readings: Vec<MutexGuard<'_, Reading>> =
            known.iter().map(|producer| producer.reading()).collect();
        let mut chunks = Vec::with_capacity(readings.len());
        let mut parts = Vec::with_capacity(readings.len());
        for (producer, reading) in known.iter().zip(readings.iter_mut()) {
            let Reading {
                ring,
                scratch,
                templates,
                ..
            } = &mut **reading;
            let Ok(chunk) = ring.read_chunk(ring.slots()) else {
                continue;
            };
            chunks.push(chunk);
            parts.push((scratch, templates, &producer.next_templates));
        }
        let mut streams: Vec<Stream<'_>> = chunks
            .iter()
            .zip(parts)
            .map(|(chunk, (scratch, templates, handed))| Stream {
                bytes: whole(chunk, scratch),
                read: 0,
                next: None,
                templates,
                handed,
            })
            .collect();
        let records = merge(&mut streams, next, heads, each);
        let read: Vec<usize> = streams.iter().map(|stream| stream.read).collect();
        drop(streams);
        for (chunk, read) in chunks.into_iter().zip(read) {
            chunk.commit(read);
        }
        let mut more = false;
        for reading in &mut readings {
            let_go_if_large(&mut reading.scratch);
            more |= reading.can_move_on();
        }
        (records, more)
    }
}

/// The frames `chunk` holds, in one slice: its own, or, if they wrap
/// around the ring's end, copied into `scratch`.
fn whole<'a>(chunk: &'a rtrb::chunks::ReadChunk<'_, u8>, scratch: &'a mut Vec<u8>) -> &'a [u8] {
    let (first, second) = chunk.as_slices();
    if second.is_empty() {
        return first;
    }
    scratch.clear();
    scratch.extend_from_slice(first);
    scratch.extend_from_slice(second);
    scratch
}

/// Hands `each` the streams' records in order of their numbers, from
/// `next` up to the first number none of them holds (its record is not
/// published yet); says how many there were. Numbers are counted round at
/// 2^32: every number in the streams is at most 2^31 past `next` (the
/// channel holds fewer records), so they are compared by their distance
/// from it.
fn merge(
    streams: &mut [Stream<'_>],
    next: &mut u32,
    heads: &mut BinaryHeap<Reverse<(u32, usize)>>,
    each: &mut dyn FnMut(Entry<'_>),
) -> usize {
    let base = *next;
    heads.clear();
    for (index, stream) in streams.iter_mut().enumerate() {
        if let Some(number) = stream.next_number() {
            heads.push(Reverse((number.wrapping_sub(base), index)));
        }
    }
    let mut records = 0;
    while let Some(Reverse((mut distance, index))) = heads.pop() {
        if distance > next.wrapping_sub(base) {
            // The record numbered `next` is not published yet: those after
            // it wait for the next read.
            break;
        }
        let Some(stream) = streams.get_mut(index) else {
            break;
        };
        // The stream's records while they are the next ones.
        loop {
            stream.hand_on(each);
            records += 1;
            if distance >= next.wrapping_sub(base) {
                *next = base.wrapping_add(distance).wrapping_add(1);
            }
            match stream.next_number() {
                Some(following) => {
                    distance = following.wrapping_sub(base);
                    if distance > next.wrapping_sub(base) {
                        heads.push(Reverse((distance, index)));
                        break;
                    }
                }
                None => break,
            }
        }
    }
    records
}

/// The thread's side of a buffer.
pub(crate) struct Writing {
    producer: Arc<Producer>,
    ring: rtrb::Producer<u8>,
    /// Where a frame is made before it is copied into the ring.
    staging: Vec<u8>,
    /// The templates the writer has been handed, by slot.
    templates: Vec<Option<Arc<RecordTemplate>>>,
}

impl Writing {
    /// Writes the frame of a line, the record numbered `number`.
    pub(crate) fn line(&mut self, number: u32, line: &[u8]) {
        self.record(number, |out| entries::write_line(out, line));
    }

    /// Writes the frame of a captured record numbered `number`, of
    /// `length` bytes that `write` appends, after its template's frame if
    /// the writer does not have it.
    pub(crate) fn captured(
        &mut self,
        number: u32,
        template: &Arc<RecordTemplate>,
        length: usize,
        write: impl FnOnce(&mut Vec<u8>),
    ) {
        let slot = self.slot_of(template);
        self.record(number, |out| {
            entries::write_captured(out, slot, length, write)
        });
    }

    /// The slot of `template`, handed to the writer first if it is new.
    fn slot_of(&mut self, template: &Arc<RecordTemplate>) -> u32 {
        let known = self.templates.iter().position(|known| {
            known
                .as_ref()
                .is_some_and(|known| Arc::ptr_eq(known, template))
        });
        if let Some(slot) = known {
            return u32::try_from(slot).unwrap_or(u32::MAX);
        }
        // A slot whose model is gone is reused: its records are all
        // before the frame that refills it.
        let free = self
            .templates
            .iter()
            .position(|known| known.as_ref().is_none_or(|known| known.is_retired()));
        let slot = match free {
            Some(slot) => slot,
            None => {
                self.templates.push(None);
                self.templates.len() - 1
            }
        };
        self.templates[slot] = Some(Arc::clone(template));
        let slot = u32::try_from(slot).unwrap_or(u32::MAX);
        lock(&self.producer.next_templates).push_back(Arc::clone(template));
        self.staging.clear();
        entries::write_template(&mut self.staging, slot);
        self.publish();
        slot
    }

    /// Makes the frame of the record numbered `number` with `write` and
    /// publishes it. `write` copies bytes and runs no code of the user's:
    /// between its admission and its publication nothing can fail, so every
    /// number is published.
    #[inline]
    fn record(&mut self, number: u32, write: impl FnOnce(&mut Vec<u8>)) {
        self.staging.clear();
        write(&mut self.staging);
        entries::stamp(&mut self.staging, number);
        self.publish();
    }

    /// Copies the staged frame into the ring (a new one if it does not
    /// fit), which publishes it.
    #[inline]
    fn publish(&mut self) {
        if self.ring.push_entire_slice(&self.staging).is_err() {
            self.next_ring();
        }
        let_go_if_large(&mut self.staging);
    }

    /// Goes on to a new ring, large enough for the staged frame, and writes
    /// the frame there.
    #[cold]
    fn next_ring(&mut self) {
        let (mut ring, reading) = rtrb::RingBuffer::new(self.staging.len().max(RING_BYTES));
        // The new ring holds the frame: it has room for it.
        let _ = ring.push_entire_slice(&self.staging);
        self.ring = ring;
        lock(&self.producer.next_rings).push_back(reading);
    }
}

thread_local! {
    /// This thread's buffers: (channel's id, its side of the buffer).
    static OWN: RefCell<Vec<(u64, Writing)>> = const { RefCell::new(Vec::new()) };
}

/// The buffers of one channel's threads.
pub(crate) struct Producers {
    /// Names this channel among a thread's buffers: its room's number,
    /// one per channel made in the process, never reused.
    id: u64,
    registry: Mutex<Vec<Arc<Producer>>>,
    /// Counts changes of `registry`, so the writer copies it only then.
    generation: AtomicU64,
    /// Numbers the tests' records, as admissions do the channel's.
    #[cfg(test)]
    numbers: std::sync::atomic::AtomicU32,
    /// For a thread that cannot use a buffer of its own.
    shared: Mutex<Option<Writing>>,
}

impl Producers {
    /// The buffers of the channel numbered `id` (its room's: see
    /// [`RoomSignals::id`](crate::pipeline::room::RoomSignals::id)).
    pub(crate) fn new(id: u64) -> Self {
        Producers {
            id,
            registry: Mutex::new(Vec::new()),
            generation: AtomicU64::new(0),
            #[cfg(test)]
            numbers: std::sync::atomic::AtomicU32::new(0),
            shared: Mutex::new(None),
        }
    }

    /// Writes into this thread's buffer with `write`.
    #[inline]
    pub(crate) fn append(&self, write: impl FnOnce(&mut Writing)) {
        let mut write = Some(write);
        let written = OWN.try_with(|own| {
            let mut own = own.try_borrow_mut().ok()?;
            let index = match own.iter().position(|(id, _)| *id == self.id) {
                Some(index) => index,
                None => {
                    // A buffer only its thread holds belongs to a channel
                    // that is gone.
                    own.retain(|(_, writing)| Arc::strong_count(&writing.producer) > 1);
                    own.push((self.id, self.register()));
                    own.len() - 1
                }
            };
            let (_, writing) = own.get_mut(index)?;
            write.take().map(|write| write(writing))
        });
        if let Ok(Some(())) = written {
            return;
        }
        if let Some(write) = write {
            let mut shared = lock(&self.shared);
            write(shared.get_or_insert_with(|| self.register()));
        }
    }

    /// A new buffer, registered for the writer.
    #[cold]
    fn register(&self) -> Writing {
        let (ring, reading) = rtrb::RingBuffer::new(RING_BYTES);
        let producer = Arc::new(Producer {
            reading: Mutex::new(Reading {
                ring: reading,
                later: VecDeque::new(),
                scratch: Vec::new(),
                templates: Vec::new(),
            }),
            next_rings: Mutex::new(VecDeque::new()),
            next_templates: Mutex::new(VecDeque::new()),
        });
        lock(&self.registry).push(Arc::clone(&producer));
        self.generation.fetch_add(1, Ordering::Release);
        Writing {
            producer,
            ring,
            staging: Vec::new(),
            templates: Vec::new(),
        }
    }

    /// Hands `each` every record written since the last read, in the
    /// order they were logged, up to the first one whose thread has not
    /// published it yet, and says how many there were. Called by the writer
    /// thread only, with what it keeps between reads.
    pub(crate) fn read(&self, readers: &mut Readers, each: &mut dyn FnMut(Entry<'_>)) -> usize {
        let generation = self.generation.load(Ordering::Acquire);
        if generation != readers.seen {
            readers.known.clone_from(&lock(&self.registry));
            readers.seen = generation;
        }
        let mut ended = false;
        for producer in &readers.known {
            // Held by the registry and by `known` only: its thread ended.
            // The fence makes the thread's last writes visible to the read.
            if Arc::strong_count(producer) == 2 {
                fence(Ordering::Acquire);
                ended = true;
            }
        }
        let mut records = 0;
        loop {
            let (read, more) = readers.read_once(each);
            records += read;
            if !more {
                break;
            }
        }
        if ended {
            self.forget_ended(&mut readers.known);
        }
        records
    }

    /// Forgets the buffers of threads that ended, once they are read; the
    /// next read copies the registry again.
    #[cold]
    fn forget_ended(&self, known: &mut Vec<Arc<Producer>>) {
        known.clear();
        let mut registry = lock(&self.registry);
        // Held by the registry alone: its thread ended. One the writer has
        // not read yet (registered since its last copy) waits for a read.
        registry.retain(|producer| Arc::strong_count(producer) > 1 || !producer.is_drained());
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The next record's number, as its admission would give it.
    #[cfg(test)]
    fn number(&self) -> u32 {
        self.numbers.fetch_add(1, Ordering::Relaxed)
    }

    /// Writes a line with the next number into this thread's buffer.
    #[cfg(test)]
    fn line(&self, line: &[u8]) {
        let number = self.number();
        self.append(|writing| writing.line(number, line));
    }

    /// Whether the writer read every buffer to its end.
    #[cfg(test)]
    fn registry_is_drained(&self) -> bool {
        lock(&self.registry)
            .iter()
            .all(|producer| producer.is_drained())
    }

    /// How many buffers the channel holds.
    #[cfg(test)]
    pub(crate) fn buffers(&self) -> usize {
        lock(&self.registry).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Buffers of a channel of their own.
    fn test_producers() -> Producers {
        Producers::new(crate::pipeline::room::RoomSignals::default().id())
    }

    /// The writer's side: what a read finds, as lines (a captured record as
    /// its capture after its template's first key).
    #[derive(Default)]
    struct Reader {
        readers: Readers,
    }

    impl Reader {
        fn read(&mut self, producers: &Producers) -> (usize, Vec<Vec<u8>>) {
            let mut lines = Vec::new();
            let records = producers.read(&mut self.readers, &mut |entry| {
                lines.push(match entry {
                    Entry::Line(line) => line.to_vec(),
                    Entry::Captured { template, capture } => {
                        let key = template.map_or("?", |template| template.keys()[0]);
                        [key.as_bytes(), b":", capture].concat()
                    }
                });
            });
            (records, lines)
        }
    }

    fn template(key: &'static str) -> Arc<RecordTemplate> {
        static LOCATION: slog::RecordLocation = slog::RecordLocation {
            file: "model.rs",
            line: 1,
            column: 0,
            function: "",
            module: "",
        };
        let values = slog::OwnedKVList::from(slog::o!("k" => "v"));
        Arc::new(
            RecordTemplate::new(
                &LOCATION,
                &crate::record::head::ProcessFields::of_this_process(),
                &values,
                &[key],
                &[],
                None,
            )
            .expect("renders"),
        )
    }

    #[test]
    fn each_threads_frames_arrive_in_its_order_across_rings() {
        let producers = Arc::new(test_producers());
        // Lines of 1 KiB: a thread fills several rings.
        let threads: Vec<_> = (0..3u8)
            .map(|thread| {
                let producers = Arc::clone(&producers);
                std::thread::spawn(move || {
                    for line in 0..200u8 {
                        let mut bytes = vec![thread, line];
                        bytes.resize(1024, b'.');
                        producers.line(&bytes);
                    }
                })
            })
            .collect();
        let mut reader = Reader::default();
        let mut seen: Vec<Vec<u8>> = Vec::new();
        let mut records = 0;
        for thread in threads {
            let (count, lines) = reader.read(&producers);
            records += count;
            seen.extend(lines);
            assert!(thread.join().is_ok());
        }
        let (count, lines) = reader.read(&producers);
        records += count;
        seen.extend(lines);
        assert_eq!(records, 600);
        assert_eq!(seen.len(), 600);
        for thread in 0..3u8 {
            let order: Vec<u8> = seen
                .iter()
                .filter(|line| line[0] == thread)
                .map(|line| line[1])
                .collect();
            assert_eq!(order, (0..200).collect::<Vec<_>>(), "thread {thread}");
        }
    }

    #[test]
    fn a_record_logged_after_joining_a_thread_is_read_after_that_threads_records() {
        let producers = Arc::new(test_producers());
        let mut reader = Reader::default();
        // This thread's buffer comes first in the registry.
        producers.line(b"first");
        assert_eq!(reader.read(&producers), (1, vec![b"first".to_vec()]));
        let other = {
            let producers = Arc::clone(&producers);
            std::thread::spawn(move || {
                for line in 0..100u8 {
                    let mut bytes = vec![line];
                    bytes.resize(1024, b'.');
                    producers.line(&bytes);
                }
            })
        };
        assert!(other.join().is_ok());
        producers.line(b"last");
        let (records, lines) = reader.read(&producers);
        assert_eq!(records, 101);
        assert_eq!(lines.last().map(Vec::as_slice), Some(&b"last"[..]));
        let order: Vec<u8> = lines[..100].iter().map(|line| line[0]).collect();
        assert_eq!(order, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn a_record_waits_while_one_numbered_before_it_is_not_published() {
        let producers = Arc::new(test_producers());
        let mut reader = Reader::default();
        producers.line(b"one");
        // Another thread took the next number and has not published its
        // record yet.
        let taken = producers.number();
        producers.line(b"three");
        assert_eq!(reader.read(&producers), (1, vec![b"one".to_vec()]));
        assert_eq!(reader.read(&producers).0, 0, "three waits for two");
        let other = {
            let producers = Arc::clone(&producers);
            std::thread::spawn(move || {
                producers.append(|writing| writing.line(taken, b"two"));
            })
        };
        assert!(other.join().is_ok());
        assert_eq!(
            reader.read(&producers),
            (2, vec![b"two".to_vec(), b"three".to_vec()])
        );
        assert!(producers.registry_is_drained());
    }

    #[test]
    fn frames_that_wrap_around_a_rings_end_are_read_whole_beside_another_threads() {
        let producers = Arc::new(test_producers());
        let mut reader = Reader::default();
        let line = |tag: u8| {
            let mut bytes = vec![tag];
            bytes.resize(1000, b'.');
            bytes
        };
        // About 40 KiB of the 64 KiB ring, read; then as much again, which
        // wraps around the ring's end.
        for tag in 0..40 {
            producers.line(&line(tag));
        }
        assert_eq!(reader.read(&producers).0, 40);
        for tag in 40..80 {
            producers.line(&line(tag));
        }
        // Another thread's record, so that the read merges two buffers.
        let other = {
            let producers = Arc::clone(&producers);
            std::thread::spawn(move || producers.line(&line(200)))
        };
        assert!(other.join().is_ok());
        let (records, lines) = reader.read(&producers);
        assert_eq!(records, 41);
        let expected: Vec<Vec<u8>> = (40..80).chain([200]).map(line).collect();
        assert_eq!(lines, expected);
    }

    #[test]
    fn numbers_counted_round_past_2_to_the_32_keep_their_order() {
        let producers = Arc::new(test_producers());
        let mut reader = Reader::default();
        producers.numbers.store(u32::MAX - 1, Ordering::Relaxed);
        reader.readers.next = u32::MAX - 1;
        producers.line(b"a");
        let other = {
            let producers = Arc::clone(&producers);
            std::thread::spawn(move || {
                producers.line(b"b");
                producers.line(b"c");
            })
        };
        assert!(other.join().is_ok());
        producers.line(b"d");
        let (records, lines) = reader.read(&producers);
        assert_eq!(records, 4);
        assert_eq!(lines, [b"a", b"b", b"c", b"d"].map(|line| line.to_vec()));
        assert_eq!(reader.readers.next, 2);
    }

    #[test]
    fn records_ordered_by_a_lock_across_threads_are_read_in_that_order() {
        // Four threads take turns under a lock, each logging the turn's
        // number; lines of 1 KiB, so that every thread fills several rings
        // while the writer reads.
        const TURNS: u32 = 2_000;
        let producers = Arc::new(test_producers());
        let turn = Arc::new(Mutex::new(0u32));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (producers, turn) = (Arc::clone(&producers), Arc::clone(&turn));
                std::thread::spawn(move || {
                    loop {
                        let mut turn = lock(&turn);
                        if *turn == TURNS {
                            return;
                        }
                        let mut bytes = turn.to_le_bytes().to_vec();
                        bytes.resize(1024, b'.');
                        producers.line(&bytes);
                        *turn += 1;
                    }
                })
            })
            .collect();
        let mut reader = Reader::default();
        let mut seen = Vec::new();
        while seen.len() < TURNS as usize {
            let (records, lines) = reader.read(&producers);
            assert_eq!(records, lines.len());
            seen.extend(
                lines
                    .iter()
                    .map(|line| u32::from_le_bytes([line[0], line[1], line[2], line[3]])),
            );
            std::thread::yield_now();
        }
        for thread in threads {
            assert!(thread.join().is_ok());
        }
        assert_eq!(seen, (0..TURNS).collect::<Vec<_>>());
        assert_eq!(reader.read(&producers).0, 0);
    }

    #[test]
    fn a_frame_larger_than_a_ring_gets_a_ring_of_its_own() {
        let producers = test_producers();
        let mut reader = Reader::default();
        let large = vec![b'x'; 3 * RING_BYTES];
        producers.line(b"before");
        producers.line(&large);
        producers.line(b"after");
        let (records, lines) = reader.read(&producers);
        assert_eq!(records, 3);
        assert_eq!(lines, [b"before".to_vec(), large, b"after".to_vec()]);
        assert_eq!(reader.read(&producers).0, 0, "read once");
    }

    #[test]
    fn captured_records_carry_their_templates_and_a_retired_slot_is_reused() {
        let producers = test_producers();
        let mut reader = Reader::default();
        let (first, second) = (template("a"), template("b"));
        let capture = |template: &Arc<RecordTemplate>, bytes: &'static [u8]| {
            let number = producers.number();
            producers.append(|writing| {
                writing.captured(number, template, bytes.len(), |out| {
                    out.extend_from_slice(bytes);
                });
            });
        };
        capture(&first, b"1");
        capture(&second, b"2");
        capture(&first, b"3");
        first.retire();
        let third = template("c");
        capture(&third, b"4");
        let (records, lines) = reader.read(&producers);
        assert_eq!(records, 4, "a template's frame is not a record");
        assert_eq!(
            lines,
            [&b"a:1"[..], b"b:2", b"a:3", b"c:4"].map(<[u8]>::to_vec)
        );
        let slots = OWN.with(|own| {
            own.borrow()
                .iter()
                .find(|(id, _)| *id == producers.id)
                .map(|(_, writing)| writing.templates.len())
        });
        assert_eq!(slots, Some(2), "the third took the first's slot");
        assert_eq!(
            Arc::strong_count(&first),
            1,
            "a retired template is let go on both sides once its slot is reused"
        );
        assert_eq!(
            Arc::strong_count(&second),
            3,
            "the test's, the thread's, the writer's"
        );
    }

    #[test]
    fn a_buffer_is_forgotten_once_its_thread_ended_and_it_was_read() {
        let producers = Arc::new(test_producers());
        let mut reader = Reader::default();
        producers.line(b"main");
        let other = {
            let producers = Arc::clone(&producers);
            std::thread::spawn(move || producers.line(b"other"))
        };
        assert!(other.join().is_ok());
        assert_eq!(producers.buffers(), 2);
        let (records, mut lines) = reader.read(&producers);
        lines.sort();
        assert_eq!(
            (records, lines),
            (2, vec![b"main".to_vec(), b"other".to_vec()])
        );
        assert_eq!(producers.buffers(), 1, "the ended thread's buffer is gone");
        producers.line(b"again");
        assert_eq!(reader.read(&producers), (1, vec![b"again".to_vec()]));
    }

    #[test]
    fn a_threads_buffer_holds_64_kib_and_a_large_frame_does_not_keep_its_memory() {
        let producers = test_producers();
        producers.line(b"small");
        let (ring, staging) = with_own(&producers, |writing| {
            (writing.ring.buffer().capacity(), writing.staging.capacity())
        });
        assert_eq!(ring, 64 << 10, "the guide's figure");
        assert!(staging > 0, "a small frame's staging buffer is kept");
        producers.line(&vec![b'x'; 100 << 10]);
        let staging = with_own(&producers, |writing| writing.staging.capacity());
        assert!(staging <= 64 << 10, "a large one's is let go: {staging}");
        let mut reader = Reader::default();
        assert_eq!(reader.read(&producers).0, 2);
    }

    #[test]
    fn a_buffer_the_writer_has_not_read_is_not_forgotten_when_its_thread_ends() {
        let producers = Arc::new(test_producers());
        let mut reader = Reader::default();
        producers.line(b"main");
        assert_eq!(reader.read(&producers).0, 1);
        // A thread registers, writes and ends after the writer's last copy
        // of the registry; the writer forgets the ended buffers with that
        // copy in hand.
        let other = {
            let producers = Arc::clone(&producers);
            std::thread::spawn(move || producers.line(b"other"))
        };
        assert!(other.join().is_ok());
        producers.forget_ended(&mut reader.readers.known);
        assert_eq!(producers.buffers(), 2, "its line is not read yet");
        assert_eq!(reader.read(&producers), (1, vec![b"other".to_vec()]));
        assert_eq!(producers.buffers(), 1, "read, then forgotten");
    }

    /// Runs `look` on this thread's side of `producers`' buffer.
    fn with_own<R>(producers: &Producers, look: impl FnOnce(&Writing) -> R) -> R {
        OWN.with(|own| {
            let own = own.borrow();
            let (_, writing) = own
                .iter()
                .find(|(id, _)| *id == producers.id)
                .expect("this thread wrote into it");
            look(writing)
        })
    }

    #[test]
    fn a_thread_keeps_one_buffer_per_channel_and_drops_those_of_channels_gone() {
        let first = test_producers();
        first.line(b"1");
        let second_id = {
            let second = test_producers();
            second.line(b"2");
            second.line(b"3");
            second.id
        };
        let third = test_producers();
        third.line(b"4");
        let ids: Vec<u64> = OWN.with(|own| own.borrow().iter().map(|(id, _)| *id).collect());
        assert!(
            !ids.contains(&second_id),
            "the gone channel's buffer is dropped"
        );
        assert!(ids.contains(&first.id) && ids.contains(&third.id));
    }
}
