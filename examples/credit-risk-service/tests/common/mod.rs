//! What the service's tests share: the service on a loopback port with its
//! records captured, and a plain HTTP/1.1 client over a real TCP socket.

#![allow(dead_code)]

use credit_risk_service::artifact::ModelArtifact;
use credit_risk_service::http::state::{AppState, ServedModel};
use credit_risk_service::model::CreditRiskModel;
use credit_risk_service::server;
use logged_model::{
    CapturedOutput, HashKey, LogGuard, Logged, LoggerBuilder, ModelSettings, OutcomeLogger,
};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The longest any test waits on a socket.
pub const SOCKET_TIMEOUT: Duration = Duration::from_secs(10);

/// The hash key the tests' services use.
pub const TEST_HASH_KEY: &str = "the tests' hash key, 16+ bytes";

/// The model's settings in the tests: a fixed hash key.
pub fn test_settings() -> ModelSettings {
    ModelSettings::new().hash_key(HashKey::new(TEST_HASH_KEY).expect("long enough"))
}

/// The service, listening on 127.0.0.1 on a free port.
pub struct TestService {
    pub address: SocketAddr,
    pub output: CapturedOutput,
    guard: Option<LogGuard>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    runtime: Option<tokio::runtime::Runtime>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestService {
    pub fn start() -> Self {
        Self::start_with_timeout(Duration::from_secs(10))
    }

    pub fn start_with_timeout(request_timeout: Duration) -> Self {
        Self::start_with(request_timeout, |artifact, logger| {
            ServedModel::Logged(std::sync::Arc::new(
                Logged::with_settings(CreditRiskModel::new(artifact), logger, &test_settings())
                    .expect("no key collides"),
            ))
        })
    }

    /// The service over the model `make_model` makes from the committed
    /// artifact and the service's logger.
    pub fn start_with(
        request_timeout: Duration,
        make_model: impl FnOnce(ModelArtifact, &logged_model::Logger) -> ServedModel,
    ) -> Self {
        let output = CapturedOutput::default();
        let (logger, guard) = LoggerBuilder::new()
            .build_with_writer(output.clone())
            .expect("a valid logger configuration");
        let artifact = ModelArtifact::load(credit_risk_service::DEFAULT_ARTIFACT.as_ref())
            .expect("the committed artifact loads");
        let roc_auc = artifact.metrics.roc_auc;
        let version = artifact.model_version.clone();
        let model = make_model(artifact, &logger);
        let outcomes =
            OutcomeLogger::with_settings(&logger, "credit_risk_model", &version, &test_settings())
                .expect("no key collides");
        let state = AppState::new(model, outcomes, roc_auc, logger.into(), request_timeout)
            .with_log_output(guard.output())
            .shared();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a free loopback port");
        let address = listener.local_addr().expect("an address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = runtime.spawn(server::serve(
            listener,
            state,
            async move {
                let _ = stopped.await;
            },
            Duration::from_secs(5),
        ));
        TestService {
            address,
            output,
            guard: Some(guard),
            stop: Some(stop),
            runtime: Some(runtime),
            server: Some(server),
        }
    }

    /// Sends one request on a new connection and reads the whole response.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        send(self.address, method, path, headers, body)
    }

    /// POSTs a JSON body to the prediction endpoint.
    pub fn predict(&self, body: &str) -> Response {
        self.request(
            "POST",
            "/api/models/credit_risk_model/prediction",
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
    }

    /// Stops the server, flushes the log and returns every record.
    pub fn stop(mut self) -> Vec<serde_json::Map<String, serde_json::Value>> {
        if let Err(error) = self.shut_down() {
            panic!("{error}");
        }
        self.output.records().expect("every line is a JSON object")
    }

    /// Stops the server and says how it ended: an error or a panic of the
    /// server task is a failure of the test, never ignored.
    fn shut_down(&mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            // The receiver is gone only if the server already ended; its
            // result says why.
            let _ = stop.send(());
        }
        let ended = match (self.runtime.as_ref(), self.server.take()) {
            (Some(runtime), Some(server)) => match runtime.block_on(server) {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(format!("the server failed: {error}")),
                Err(join) => Err(format!("the server task failed: {join}")),
            },
            _ => Ok(()),
        };
        // Dropping the runtime drops the state and its loggers.
        drop(self.runtime.take());
        drop(self.guard.take());
        ended
    }
}

impl Drop for TestService {
    fn drop(&mut self) {
        let ended = self.shut_down();
        if !std::thread::panicking() {
            if let Err(error) = ended {
                panic!("{error}");
            }
        }
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// One request over a fresh connection, `Connection: close`.
pub fn send(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect_timeout(&address, SOCKET_TIMEOUT).expect("connects");
    stream
        .set_read_timeout(Some(SOCKET_TIMEOUT))
        .expect("a read timeout");
    stream
        .set_write_timeout(Some(SOCKET_TIMEOUT))
        .expect("a write timeout");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream
        .write_all(request.as_bytes())
        .expect("writes the head");
    // The server may answer (413) before it reads a large body, then close.
    let _ = stream.write_all(body);
    read_response(&mut stream)
}

/// Reads a `Connection: close` response to its end.
pub fn read_response(stream: &mut TcpStream) -> Response {
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_response(&raw)
}

pub fn parse_response(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Response {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// A valid request body: the first row of the data set.
pub fn good_application_json() -> String {
    serde_json::to_string(&credit_risk_service::examples::good_applicant()).expect("serializes")
}

/// The valid body with one field replaced.
pub fn application_with(field: &str, value: serde_json::Value) -> String {
    let mut body =
        serde_json::to_value(credit_risk_service::examples::good_applicant()).expect("serializes");
    body[field] = value;
    body.to_string()
}

/// The valid body without one field.
pub fn application_without(field: &str) -> String {
    let mut body =
        serde_json::to_value(credit_risk_service::examples::good_applicant()).expect("serializes");
    body.as_object_mut().expect("an object").remove(field);
    body.to_string()
}
