//! A scripted HTTP/1.1 stand-in for AWS services that moto does not implement (Fraud
//! Detector, MSK's control plane): it records each request and answers with the next reply
//! of its script, so that a test drives the real SDK client over the wire and checks what it
//! sent. Without a reply left it answers 500.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One request as the stand-in read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The request target as sent: path and query, still percent-encoded.
    pub target: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A reply: status, content type and body.
pub type Reply = (u16, &'static str, String);

#[derive(Default)]
struct Script {
    seen: Vec<Request>,
    replies: VecDeque<Reply>,
}

/// A running stand-in; it stops with the test's runtime.
pub struct StandIn {
    pub endpoint: String,
    script: Arc<Mutex<Script>>,
}

impl StandIn {
    /// Listens on a free local port and answers with `replies`, in order.
    pub async fn start(replies: Vec<Reply>) -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free local port");
        let endpoint = format!("http://{}", listener.local_addr().expect("bound"));
        let script = Arc::new(Mutex::new(Script {
            seen: Vec::new(),
            replies: replies.into(),
        }));
        let shared = script.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(BufReader::new(stream), shared.clone()));
            }
        });
        StandIn { endpoint, script }
    }

    /// The requests seen so far.
    pub fn seen(&self) -> Vec<Request> {
        self.script.lock().expect("not poisoned").seen.clone()
    }
}

/// Answers the requests of one connection (keep-alive) until the client closes it.
async fn serve(mut reader: BufReader<tokio::net::TcpStream>, script: Arc<Mutex<Script>>) {
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_owned(),
            parts.next().unwrap_or("").to_owned(),
        );
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let length = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0usize);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).await.is_err() {
            return;
        }
        let (status, content_type, text) = {
            let mut s = script.lock().expect("not poisoned");
            s.seen.push(Request {
                method,
                target,
                headers,
                body,
            });
            s.replies.pop_front().unwrap_or((
                500,
                "application/json",
                r#"{"__type": "InternalServerException", "message": "no reply left"}"#.into(),
            ))
        };
        let response = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n{text}",
            text.len()
        );
        if reader
            .get_mut()
            .write_all(response.as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
}
