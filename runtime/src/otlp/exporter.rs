//! [`OtlpExporter`]: the OTLP/HTTP output on the writer thread. It maps the
//! lines the writer hands it (see `mapping.rs`), cuts them into batches
//! bounded in records and bytes, posts each as a protobuf
//! `ExportLogsServiceRequest` (gzip by default), and retries what may
//! succeed later: connection errors, timeouts, 429, 502, 503 and 504, after
//! the server's `Retry-After` or a doubling backoff, for at most the
//! configured retry time. A 400 or any other refusal is final. It counts
//! nothing itself: it says what each call delivered, and the writer counts.
//!
//! While it retries, the writer thread waits: the channel fills, callers
//! meet the overflow policy (block, with its timeout, or drop and count),
//! and the output reads as stalled, exactly as a stdout that does not take
//! lines.

use crate::otlp::config::{Compression, OtlpConfig};
use crate::otlp::mapping::{Batch, ResourceKeys, key_value, map_line};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use prost::Message;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

/// The first wait before a retry; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// The most of a refusal's body quoted on standard error.
const QUOTED_BODY: u64 = 512;

/// What one call delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Exported {
    /// Records the receiver accepted.
    pub(crate) exported: u64,
    /// Records refused, or not delivered within the retry time.
    pub(crate) failed: u64,
}

/// Posts records to an OTLP/HTTP logs endpoint.
pub(crate) struct OtlpExporter {
    agent: ureq::Agent,
    config: OtlpConfig,
    resource_keys: ResourceKeys,
    /// `service.name` and the configured resource attributes.
    extra_resource: Vec<KeyValue>,
}

/// How a request ended.
enum Attempt {
    /// Accepted, but for this many records (a partial success).
    Accepted { rejected: u64 },
    /// May succeed later: after the server's `Retry-After`, if it gave one.
    Retry {
        after: Option<Duration>,
        reason: String,
    },
    /// Refused for good.
    Refused { reason: String },
}

impl OtlpExporter {
    /// An exporter sending as `config` says; `env_keys` are the environment
    /// fields' keys, written to the resource.
    pub(crate) fn new(config: OtlpConfig, env_keys: impl IntoIterator<Item = String>) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.request_timeout()))
            .http_status_as_error(false)
            .build()
            .into();
        let extra_resource = config
            .resource_attributes()
            .into_iter()
            .map(|(key, value)| key_value(key, serde_json::Value::String(value)))
            .collect();
        OtlpExporter {
            agent,
            config,
            resource_keys: ResourceKeys::new(env_keys),
            extra_resource,
        }
    }

    /// Exports `lines` (whole JSON lines), in as many requests as the batch
    /// limits need.
    pub(crate) fn export_lines(&mut self, lines: &[u8]) -> Exported {
        let observed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
            });
        let (max_records, max_bytes) = self.config.batch_limits();
        let mut total = Exported::default();
        let mut batch = Batch::default();
        let mut bytes = 0;
        for line in lines.split_inclusive(|&byte| byte == b'\n') {
            let Some(mapped) = map_line(line, &self.resource_keys, observed) else {
                // Never written by the drains: a line that is not an object.
                total.failed += 1;
                continue;
            };
            if batch.records() > 0
                && (batch.records() >= max_records || bytes + line.len() > max_bytes)
            {
                self.export(std::mem::take(&mut batch), &mut total);
                bytes = 0;
            }
            batch.push(mapped);
            bytes += line.len();
        }
        if batch.records() > 0 {
            self.export(batch, &mut total);
        }
        total
    }

    /// Sends one batch, retrying as the module says, and adds what it
    /// delivered to `total`.
    fn export(&self, batch: Batch, total: &mut Exported) {
        let records = batch.records() as u64;
        let request = ExportLogsServiceRequest {
            resource_logs: vec![batch.into_resource_logs(&self.extra_resource)],
        };
        let body = match self.encode(&request) {
            Ok(body) => body,
            Err(error) => {
                self.report_failure(
                    records,
                    &format!("the request could not be encoded: {error}"),
                );
                total.failed += records;
                return;
            }
        };
        // A retry time too long to add to the clock never runs out.
        let deadline = Instant::now().checked_add(self.config.retry_duration());
        let mut backoff = FIRST_BACKOFF;
        loop {
            let (after, reason) = match self.post(&body) {
                Attempt::Accepted { rejected } => {
                    let rejected = rejected.min(records);
                    if rejected > 0 {
                        self.report_failure(
                            rejected,
                            "the receiver rejected them (partial success)",
                        );
                    }
                    total.exported += records - rejected;
                    total.failed += rejected;
                    return;
                }
                Attempt::Refused { reason } => {
                    self.report_failure(records, &reason);
                    total.failed += records;
                    return;
                }
                Attempt::Retry { after, reason } => (after, reason),
            };
            let now = Instant::now();
            if deadline.is_some_and(|deadline| now >= deadline) {
                self.report_failure(
                    records,
                    &format!(
                        "{reason}, still after retrying for {:?}",
                        self.config.retry_duration()
                    ),
                );
                total.failed += records;
                return;
            }
            let left = deadline.map_or(Duration::MAX, |deadline| deadline - now);
            let wait = after.unwrap_or(backoff).min(left);
            std::thread::sleep(wait);
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    fn encode(&self, request: &ExportLogsServiceRequest) -> std::io::Result<Vec<u8>> {
        let encoded = request.encode_to_vec();
        match self.config.body_compression() {
            Compression::None => Ok(encoded),
            Compression::Gzip => {
                let mut gzip = flate2::write::GzEncoder::new(
                    Vec::with_capacity(encoded.len() / 4),
                    flate2::Compression::fast(),
                );
                gzip.write_all(&encoded)?;
                gzip.finish()
            }
        }
    }

    /// One request.
    fn post(&self, body: &[u8]) -> Attempt {
        let mut request = self
            .agent
            .post(self.config.endpoint())
            .header("content-type", "application/x-protobuf");
        if self.config.body_compression() == Compression::Gzip {
            request = request.header("content-encoding", "gzip");
        }
        for (name, value) in self.config.headers() {
            request = request.header(name, value);
        }
        let mut response = match request.send(body) {
            Ok(response) => response,
            Err(error) => {
                return Attempt::Retry {
                    after: None,
                    reason: format!("no response from {}: {error}", self.config.endpoint()),
                };
            }
        };
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            let rejected = response
                .body_mut()
                .with_config()
                .limit(1 << 20)
                .read_to_vec()
                .ok()
                .and_then(|bytes| ExportLogsServiceResponse::decode(bytes.as_slice()).ok())
                .and_then(|response| response.partial_success)
                .map_or(0, |partial| {
                    u64::try_from(partial.rejected_log_records).unwrap_or(0)
                });
            return Attempt::Accepted { rejected };
        }
        let after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let quoted = response
            .body_mut()
            .with_config()
            .limit(QUOTED_BODY)
            .read_to_string()
            .unwrap_or_default();
        let reason = format!(
            "{} answered HTTP {status} {}",
            self.config.endpoint(),
            quoted.trim()
        );
        if matches!(status, 429 | 502 | 503 | 504) {
            Attempt::Retry { after, reason }
        } else {
            Attempt::Refused { reason }
        }
    }

    /// Says on standard error why records were not exported (they are
    /// counted by the writer).
    fn report_failure(&self, records: u64, reason: &str) {
        eprintln!("logged-model: {records} log records were not exported over OTLP: {reason}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    /// What a test receiver saw: the records of each request, in order.
    type Seen = Arc<Mutex<Vec<usize>>>;

    /// A receiver on loopback answering each request with `answer` (its
    /// status line and headers, given the request's number); it decodes
    /// every body (gzip, then protobuf) and notes its records.
    fn receiver(answer: fn(usize) -> &'static str) -> (String, Seen) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let port = listener.local_addr().expect("an address").port();
        let seen: Seen = Arc::default();
        let kept = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = Arc::clone(&kept);
                std::thread::spawn(move || {
                    let mut writer = stream.try_clone().expect("a clone");
                    let mut reader = BufReader::new(stream);
                    loop {
                        let (mut length, mut gzip, mut line) = (0, false, String::new());
                        loop {
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            let header = line.trim_end().to_ascii_lowercase();
                            if header.is_empty() {
                                break;
                            }
                            if let Some(value) = header.strip_prefix("content-length:") {
                                length = value.trim().parse().unwrap_or(0);
                            }
                            gzip |= header == "content-encoding: gzip";
                        }
                        let mut body = vec![0; length];
                        if reader.read_exact(&mut body).is_err() {
                            return;
                        }
                        if gzip {
                            let mut plain = Vec::new();
                            flate2::read::GzDecoder::new(body.as_slice())
                                .read_to_end(&mut plain)
                                .expect("gzip");
                            body = plain;
                        }
                        let Ok(request) = ExportLogsServiceRequest::decode(body.as_slice()) else {
                            let _ = writer.write_all(
                                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n",
                            );
                            continue;
                        };
                        let records = request
                            .resource_logs
                            .iter()
                            .flat_map(|r| &r.scope_logs)
                            .map(|s| s.log_records.len())
                            .sum();
                        let number = {
                            let mut seen = kept.lock().expect("not poisoned");
                            seen.push(records);
                            seen.len()
                        };
                        let head = answer(number);
                        let reply = if head.starts_with("HTTP/1.1 200") && head.contains("partial")
                        {
                            let partial = ExportLogsServiceResponse {
                                partial_success: Some(
                                    opentelemetry_proto::tonic::collector::logs::v1::ExportLogsPartialSuccess {
                                        rejected_log_records: 2,
                                        error_message: String::new(),
                                    },
                                ),
                            }
                            .encode_to_vec();
                            let mut reply = format!(
                                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n",
                                partial.len()
                            )
                            .into_bytes();
                            reply.extend_from_slice(&partial);
                            reply
                        } else {
                            format!("{head}\r\ncontent-length: 0\r\n\r\n").into_bytes()
                        };
                        if writer.write_all(&reply).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        (format!("http://127.0.0.1:{port}/v1/logs"), seen)
    }

    /// `count` lines of one length each.
    fn lines(count: usize) -> (Vec<u8>, usize) {
        let mut lines = Vec::new();
        for n in 0..count {
            lines.extend_from_slice(
                format!("{{\"message\":\"Numbered.\",\"n\":{}}}\n", 1000 + n).as_bytes(),
            );
        }
        (lines, 33)
    }

    fn exporter(config: OtlpConfig) -> OtlpExporter {
        OtlpExporter::new(config, Vec::new())
    }

    fn ok(_: usize) -> &'static str {
        "HTTP/1.1 200 OK"
    }

    #[test]
    fn batches_are_cut_at_the_record_and_the_byte_bound() {
        let (endpoint, seen) = receiver(ok);
        let (all, line) = lines(20);
        assert_eq!(all.len(), 20 * line);
        let mut by_records = exporter(OtlpConfig::new(endpoint.clone()).max_batch(7, 1 << 20));
        assert_eq!(
            by_records.export_lines(&all),
            Exported {
                exported: 20,
                failed: 0
            }
        );
        assert_eq!(*seen.lock().expect("not poisoned"), [7, 7, 6]);
        seen.lock().expect("not poisoned").clear();
        // Exactly three lines fit: a fourth would pass the bound by its length.
        let mut by_bytes = exporter(OtlpConfig::new(endpoint).max_batch(100, 3 * line));
        assert_eq!(by_bytes.export_lines(&all).exported, 20);
        assert_eq!(*seen.lock().expect("not poisoned"), [3, 3, 3, 3, 3, 3, 2]);
    }

    #[test]
    fn no_request_carries_no_record() {
        let (endpoint, seen) = receiver(ok);
        let (all, line) = lines(3);
        // Each line alone is over the byte bound: a request each, none empty.
        let mut exporter = exporter(OtlpConfig::new(endpoint).max_batch(100, line / 2));
        assert_eq!(exporter.export_lines(&all).exported, 3);
        assert_eq!(exporter.export_lines(b""), Exported::default());
        assert_eq!(*seen.lock().expect("not poisoned"), [1, 1, 1]);
    }

    #[test]
    fn a_line_that_is_not_a_record_fails_alone() {
        let (endpoint, seen) = receiver(ok);
        let mut exporter = exporter(OtlpConfig::new(endpoint));
        let outcome = exporter.export_lines(b"not json\n{\"message\":\"m\"}\n");
        assert_eq!(
            outcome,
            Exported {
                exported: 1,
                failed: 1
            }
        );
        assert_eq!(*seen.lock().expect("not poisoned"), [1]);
    }

    #[test]
    fn refusals_fail_the_batch_and_a_partial_success_its_rejected_records() {
        let (endpoint, seen) = receiver(|_| "HTTP/1.1 400 Bad Request");
        let (all, _) = lines(5);
        let mut refused = exporter(OtlpConfig::new(endpoint));
        assert_eq!(
            refused.export_lines(&all),
            Exported {
                exported: 0,
                failed: 5
            }
        );
        assert_eq!(seen.lock().expect("not poisoned").len(), 1, "not retried");
        let (endpoint, _) = receiver(|_| "HTTP/1.1 200 OK partial");
        let mut partial = exporter(OtlpConfig::new(endpoint));
        assert_eq!(
            partial.export_lines(&all),
            Exported {
                exported: 3,
                failed: 2
            }
        );
    }

    #[test]
    fn a_retried_batch_backs_off_and_fails_once_the_retry_time_is_over() {
        let (endpoint, seen) = receiver(|_| "HTTP/1.1 503 Service Unavailable");
        let (all, _) = lines(4);
        let mut exporter =
            exporter(OtlpConfig::new(endpoint).retry_for(Duration::from_millis(1000)));
        assert_eq!(
            exporter.export_lines(&all),
            Exported {
                exported: 0,
                failed: 4
            }
        );
        // 100, 200, 400 ms, then the deadline: a handful of attempts, not a
        // busy loop.
        let attempts = seen.lock().expect("not poisoned").len();
        assert!((3..=6).contains(&attempts), "{attempts} attempts");
    }

    #[test]
    fn a_retry_time_too_long_for_the_clock_retries_until_it_goes_through() {
        let (endpoint, seen) = receiver(|number| {
            if number == 1 {
                "HTTP/1.1 503 Service Unavailable"
            } else {
                "HTTP/1.1 200 OK"
            }
        });
        let (all, _) = lines(2);
        let mut exporter = exporter(OtlpConfig::new(endpoint).retry_for(Duration::MAX));
        assert_eq!(
            exporter.export_lines(&all),
            Exported {
                exported: 2,
                failed: 0
            }
        );
        assert_eq!(*seen.lock().expect("not poisoned"), [2, 2]);
    }

    #[test]
    fn retry_after_is_honoured_and_then_the_batch_goes_through() {
        let (endpoint, seen) = receiver(|number| {
            if number == 1 {
                "HTTP/1.1 429 Too Many Requests\r\nretry-after: 1"
            } else {
                "HTTP/1.1 200 OK"
            }
        });
        let (all, _) = lines(3);
        let mut exporter = exporter(OtlpConfig::new(endpoint));
        let started = Instant::now();
        assert_eq!(
            exporter.export_lines(&all),
            Exported {
                exported: 3,
                failed: 0
            }
        );
        assert!(
            started.elapsed() >= Duration::from_millis(900),
            "waited as told"
        );
        assert_eq!(*seen.lock().expect("not poisoned"), [3, 3]);
    }
}
