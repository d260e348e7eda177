//! The `console` function under cargo-lambda's Runtime API emulator, answering API
//! Gateway HTTP API events: S3 and Athena on moto, the user pool's keys from a local
//! stand-in, ID tokens signed in the test with an RSA key openssl makes. Calls without a
//! token, with a bad one, from the wrong user and from a non-analyst are refused.

mod common;

use std::path::Path;
use std::process::Command;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

const CLIENT: &str = "console-client";

fn rsa_key(kid: &str) -> (EncodingKey, Jwk) {
    let out = Command::new("openssl")
        .args(["genrsa", "-traditional", "2048"])
        .output()
        .expect("openssl is installed by infra/setup.sh");
    assert!(out.status.success());
    let key = EncodingKey::from_rsa_pem(&out.stdout).unwrap();
    let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(kid.into());
    (key, jwk)
}

fn id_token(
    key: &EncodingKey,
    issuer: &str,
    sub: &str,
    groups: &[&str],
    expires_in: i64,
) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("k1".into());
    let claims = json!({
        "sub": sub, "email": format!("{sub}@example.com"), "token_use": "id",
        "iss": issuer, "aud": CLIENT, "cognito:groups": groups,
        "exp": chrono::Utc::now().timestamp() + expires_in,
    });
    encode(&header, &claims, key).unwrap()
}

/// An API Gateway HTTP API (payload 2.0) event.
fn event(
    dir: &Path,
    name: &str,
    method: &str,
    path: &str,
    query: &str,
    token: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
) -> std::path::PathBuf {
    let mut headers = serde_json::Map::new();
    if let Some(t) = token {
        headers.insert("authorization".into(), json!(format!("Bearer {t}")));
    }
    let (body, base64) = match &body {
        Some((content_type, bytes)) => {
            headers.insert("content-type".into(), json!(content_type));
            use base64::Engine;
            (
                json!(base64::engine::general_purpose::STANDARD.encode(bytes)),
                true,
            )
        }
        None => (Value::Null, false),
    };
    let e = json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": headers, "isBase64Encoded": base64, "body": body,
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "console.example.com",
            "domainPrefix": "console", "requestId": name, "routeKey": "$default",
            "stage": "$default", "time": "06/Dec/2026:12:00:00 +0000", "timeEpoch": 0,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "test"}
        }
    });
    let file = dir.join(format!("{name}.json"));
    std::fs::write(&file, e.to_string()).unwrap();
    file
}

/// Status and JSON body of the function's answer.
fn answer(watch: &common::Watch, event: &Path) -> (u16, Value) {
    let out = common::invoke(watch, event);
    let status = out["statusCode"].as_u64().unwrap() as u16;
    let text = out["body"].as_str().unwrap_or("");
    let body = if out["isBase64Encoded"] == true {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    } else {
        serde_json::from_str(text).unwrap_or(Value::Null)
    };
    (status, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_in_users_see_their_own_documents_and_analysts_the_queue() {
    let Some(endpoint) = common::moto() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("vigil-console-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let run = uuid::Uuid::new_v4().simple().to_string();

    // The stack's buckets on moto, and one filed document of Alice's.
    let s3 = common::s3_client(&endpoint);
    let bucket = |b: &str| format!("vigil-test-{b}-{}", &run[..8]);
    for b in ["uploads", "pii", "clean", "findings", "archive"] {
        s3.create_bucket().bucket(bucket(b)).send().await.unwrap();
    }
    let (alice, bob, carol) = (
        "a1a1a1a1-0000-4000-8000-000000000001",
        "b2b2b2b2-0000-4000-8000-000000000002",
        "c3c3c3c3-0000-4000-8000-000000000003",
    );
    let doc = "0a0b0c0d-loan.pdf";
    let findings = json!({
        "source": "s3://x/y", "destination": format!("s3://{}/users/{alice}/{doc}", bucket("pii")),
        "verdict": "pii", "pages": 1, "reasons": ["direct identifiers: SSN"],
        "entities": [{"type": "SSN", "start": 0, "end": 11, "page": 1, "score": 0.95,
                      "detector": "recognizer", "masked": "***-**-6789"}]
    });
    s3.put_object()
        .bucket(bucket("findings"))
        .key(format!("findings/users/{alice}/{doc}.json"))
        .body(findings.to_string().into_bytes().into())
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket(bucket("pii"))
        .key(format!("users/{alice}/{doc}"))
        .body(b"%PDF-1.4 filed".to_vec().into())
        .send()
        .await
        .unwrap();

    // The user pool: its keys from a stand-in, tokens signed here.
    let (key, jwk) = rsa_key("k1");
    let (stranger, _) = rsa_key("k1");
    let jwks = vigil_testkit::http::StandIn::start(vec![(
        200,
        "application/json",
        json!({"keys": [jwk]}).to_string(),
    )])
    .await;
    let issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TEST";
    let alice_token = id_token(&key, issuer, alice, &[], 600);
    let bob_token = id_token(&key, issuer, bob, &[], 600);
    let analyst = id_token(&key, issuer, carol, &["analysts"], 600);
    let expired = id_token(&key, issuer, alice, &["analysts"], -3_600);
    let forged = id_token(&stranger, issuer, alice, &["analysts"], 600);

    let athena = common::athena_client(&endpoint);
    let workgroup = format!("vigil-test-{}", &run[..8]);
    athena
        .create_work_group()
        .name(&workgroup)
        .send()
        .await
        .unwrap();

    let aws = common::aws_env(&endpoint);
    let extra = [
        ("UPLOAD_BUCKET", bucket("uploads")),
        ("PII_BUCKET", bucket("pii")),
        ("CLEAN_BUCKET", bucket("clean")),
        ("FINDINGS_BUCKET", bucket("findings")),
        ("ARCHIVE_BUCKET", bucket("archive")),
        ("ATHENA_WORKGROUP", workgroup.clone()),
        ("GLUE_DATABASE", "txn_database".to_owned()),
        ("USER_POOL_ISSUER", issuer.to_owned()),
        ("USER_POOL_CLIENT_ID", CLIENT.to_owned()),
        ("USER_POOL_JWKS_URL", format!("{}/jwks.json", jwks.endpoint)),
    ];
    let watch = common::watch(
        env!("CARGO_BIN_EXE_console"),
        &common::env_for(&aws, &extra),
    );
    let call = |name: &str, method: &str, path: &str, query: &str, token: Option<&str>| {
        answer(&watch, &event(&dir, name, method, path, query, token, None))
    };

    // Not signed in, or signed by someone else: 401, as JSON.
    for (name, token) in [
        ("none", None),
        ("expired", Some(expired.as_str())),
        ("forged", Some(forged.as_str())),
        ("junk", Some("a.b.c")),
    ] {
        let (status, body) = call(name, "GET", "/api/documents", "", token);
        assert_eq!(status, 401, "{name}: {body}");
        assert_eq!(body["status"], 401);
    }
    // The page and what it needs to sign in are open.
    let page = common::invoke(&watch, &event(&dir, "page", "GET", "/", "", None, None));
    assert_eq!(page["statusCode"], 200);
    let (status, config) = call("config", "GET", "/api/config", "", None);
    assert_eq!(status, 200);
    assert_eq!(
        config,
        json!({"auth": "cognito", "region": "us-east-1",
        "user_pool_id": "us-east-1_TEST", "client_id": CLIENT,
        "endpoint": "https://cognito-idp.us-east-1.amazonaws.com/"})
    );

    // Alice sees her document; Bob sees none and cannot open hers.
    let (status, me) = call("me", "GET", "/api/me", "", Some(&alice_token));
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["analyst"], false);
    let (_, list) = call(
        "alice-list",
        "GET",
        "/api/documents",
        "",
        Some(&alice_token),
    );
    assert_eq!(list["documents"][0]["id"], doc, "{list}");
    assert_eq!(list["documents"][0]["verdict"], "pii");
    let (status, detail) = call(
        "alice-doc",
        "GET",
        &format!("/api/documents/{doc}"),
        "",
        Some(&alice_token),
    );
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["findings"]["entities"][0]["masked"], "***-**-6789");
    let (_, list) = call("bob-list", "GET", "/api/documents", "", Some(&bob_token));
    assert_eq!(list["documents"], json!([]), "{list}");
    for path in [
        format!("/api/documents/{doc}"),
        format!("/api/documents/{doc}/pdf"),
    ] {
        let (status, body) = call("bob-doc", "GET", &path, "", Some(&bob_token));
        assert_eq!(status, 404, "{path}: {body}");
    }

    // An upload lands under the uploader's own prefix and waits to be filed.
    let boundary = "vigil-test-boundary";
    let mut form = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"pay stub.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").into_bytes();
    form.extend_from_slice(b"%PDF-1.4 a pay stub");
    form.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let upload = event(
        &dir,
        "upload",
        "POST",
        "/api/documents",
        "",
        Some(&bob_token),
        Some((&format!("multipart/form-data; boundary={boundary}"), form)),
    );
    let (status, record) = answer(&watch, &upload);
    assert_eq!(status, 201, "{record}");
    assert_eq!(record["verdict"], "pending");
    let keys = common::s3_keys(&s3, &bucket("uploads")).await;
    assert!(
        keys.contains(&format!("users/{bob}/{}", record["id"].as_str().unwrap())),
        "{keys:?}"
    );

    // The page's way on AWS: a presigned PUT straight into the bucket, under Bob's prefix.
    let ask = event(
        &dir,
        "upload-url",
        "POST",
        "/api/uploads",
        "",
        Some(&bob_token),
        Some((
            "application/json",
            json!({"name": "../bank statement.pdf"})
                .to_string()
                .into_bytes(),
        )),
    );
    let (status, target) = answer(&watch, &ask);
    assert_eq!(status, 201, "{target}");
    let id = target["id"].as_str().unwrap();
    assert!(id.ends_with("-bank_statement.pdf"), "{id}");
    let url = target["url"].as_str().unwrap();
    assert!(
        url.contains(&format!("users/{bob}/")) && url.contains("X-Amz-Signature"),
        "{url}"
    );
    let put = Command::new("curl")
        .args([
            "-sf",
            "-X",
            "PUT",
            "-H",
            "content-type: application/pdf",
            "--data-binary",
            "%PDF-1.4 statement",
            url,
        ])
        .status()
        .unwrap();
    assert!(put.success(), "PUT to the presigned URL");
    let (_, list) = call("bob-list-2", "GET", "/api/documents", "", Some(&bob_token));
    let ids: Vec<&str> = list["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&id), "{list}");
    let (_, list) = call(
        "alice-list-2",
        "GET",
        "/api/documents",
        "",
        Some(&alice_token),
    );
    assert_eq!(list["documents"].as_array().unwrap().len(), 1, "{list}");

    // The queue is for analysts.
    let (status, body) = call("alice-alerts", "GET", "/api/alerts", "", Some(&alice_token));
    assert_eq!(status, 403, "{body}");
    let (status, _) = call("alice-sql", "POST", "/api/query", "", Some(&alice_token));
    assert_eq!(status, 403);
    let event_id = "0d829b26-4920-4e2d-bc09-5c6c72cc8164";
    common::queue_one_alert(
        &endpoint,
        event_id,
        "[\"new IP address for the customer\",\"at 03:00 UTC\"]",
    );
    let (status, body) = call(
        "carol-alerts",
        "GET",
        "/api/alerts",
        "outcome=block",
        Some(&analyst),
    );
    assert_eq!(status, 200, "{body}");
    let alert = &body["alerts"][0];
    assert_eq!(alert["event_id"], event_id);
    assert_eq!(alert["amount"], 912.5);
    assert_eq!(alert["score"], 961.2);
    assert_eq!(alert["reasons"][0], "new IP address for the customer");
    assert_eq!(alert["customer"], "M****");
    assert_eq!(alert["email"], "k*****@yahoo.com");
    let text = body.to_string();
    assert!(
        !text.contains("Michaela") && !text.contains("kiddmadison"),
        "{text}"
    );

    // A label goes to the archive bucket's labels/.
    common::queue_athena(
        &endpoint,
        vec![common::athena_result(
            &[("event_id", "varchar")],
            &[vec![event_id]],
        )],
    );
    let label = event(
        &dir,
        "label",
        "POST",
        "/api/labels",
        "",
        Some(&analyst),
        Some((
            "application/json",
            json!({"event_id": event_id, "label": "fraud"})
                .to_string()
                .into_bytes(),
        )),
    );
    let (status, stored) = answer(&watch, &label);
    assert_eq!(status, 201, "{stored}");
    assert_eq!(stored["who"], format!("{carol}@example.com"));
    let labels = common::s3_keys(&s3, &bucket("archive")).await;
    assert_eq!(labels.len(), 1);
    assert!(
        labels[0].starts_with("labels/console-")
            && labels[0].ends_with(&format!("-{event_id}.json"))
    );
    let body = common::s3_bytes(&s3, &bucket("archive"), &labels[0]).await;
    assert!(String::from_utf8(body).unwrap().contains("\"fraud\""));

    // The keys were fetched once, at the cold start.
    assert_eq!(jwks.seen().len(), 1);
}
