//! The console as deployed, in a real browser: the `console` function's router, wired by
//! `vigil_lambdas::console::open` as its `main` wires it, served over HTTP; S3, Athena and
//! the Cognito user pool on moto. Chromium (through chromedriver) runs the page's own
//! sign-in code against moto's Cognito: sign-up, the e-mailed code, sign-in; the function
//! checks moto's real ID tokens (RS256, its JWKS). A document goes up by a presigned PUT
//! straight to the upload bucket, `classify-document` (under cargo-lambda) files it from the
//! bucket's event, and the page shows the verdict; another user sees none of it; an analyst
//! sees the queue, masked. Screenshots in `$CARGO_TARGET_TMPDIR/console-screenshots/`.
//!
//! What moto does not do: send the code by e-mail (any code confirms) and enforce the
//! authorizer API Gateway puts in front of the function.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use aws_sdk_cognitoidentityprovider::types::{
    ExplicitAuthFlowsType, UsernameAttributeType, VerifiedAttributeType,
};
use fantoccini::Client;
use vigil_lambdas::console::{ConsoleSettings, open};
use vigil_testkit::browser::{self, click, fill, wait_for};

const PASSWORD: &str = "Correct-horse-battery-9";

fn screenshots() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots")
}

/// The user pool as the template makes it (e-mail as the user name, verified by a code)
/// with its app client and the analysts group: `(pool id, client id)`.
async fn user_pool(cognito: &aws_sdk_cognitoidentityprovider::Client) -> (String, String) {
    let pool = cognito
        .create_user_pool()
        .pool_name("vigil-console-test")
        .username_attributes(UsernameAttributeType::Email)
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .send()
        .await
        .unwrap();
    let pool_id = pool.user_pool().unwrap().id().unwrap().to_owned();
    let client = cognito
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("console")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .unwrap();
    let client_id = client
        .user_pool_client()
        .unwrap()
        .client_id()
        .unwrap()
        .to_owned();
    cognito
        .create_group()
        .user_pool_id(&pool_id)
        .group_name(vigil_console::cognito::ANALYSTS_GROUP)
        .send()
        .await
        .unwrap();
    (pool_id, client_id)
}

/// Creates an account on the page (sign-up, the code) and signs in with it.
async fn sign_up_and_in(c: &Client, email: &str) {
    sign_in_form(c).await;
    fill(c, "#signin-form input[name=email]", email).await;
    fill(c, "#signin-form input[name=password]", PASSWORD).await;
    click(c, "#signup").await;
    wait_for(c, "#confirm-form", str::is_empty, Some("hidden")).await;
    fill(c, "#confirm-form input[name=code]", "123456").await;
    click(c, "#confirm-form button").await;
    wait_for(c, "#signin-status", |t| t.contains("confirmed"), None).await;
    sign_in(c, email).await;
}

async fn sign_in_form(c: &Client) {
    wait_for(c, "#signin", str::is_empty, Some("hidden")).await;
}

async fn sign_in(c: &Client, email: &str) {
    sign_in_form(c).await;
    fill(c, "#signin-form input[name=email]", email).await;
    fill(c, "#signin-form input[name=password]", PASSWORD).await;
    click(c, "#signin-form button[type=submit]").await;
    wait_for(c, "#who", |t| t.starts_with(email), None).await;
}

async fn sign_out(c: &Client) {
    click(c, "#signout").await;
    sign_in_form(c).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_up_upload_and_review_in_chromium_against_moto() {
    let (Some(endpoint), Some(model)) = (common::moto(), common::model()) else {
        return;
    };
    let Some((chromium, driver)) = browser::peers() else {
        return;
    };
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let bucket = |b: &str| format!("vigil-test-{b}-{}", &run[..8]);
    let s3 = common::s3_client(&endpoint);
    for b in ["uploads", "pii", "clean", "findings", "archive"] {
        s3.create_bucket().bucket(bucket(b)).send().await.unwrap();
    }
    let athena = common::athena_client(&endpoint);
    athena
        .create_work_group()
        .name(bucket("wg"))
        .send()
        .await
        .unwrap();
    let cognito = common::cognito_client(&endpoint);
    let (pool_id, client_id) = user_pool(&cognito).await;

    // The function's settings, as the template sets them, plus where the stand-ins are.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let vars = [
        ("UPLOAD_BUCKET", bucket("uploads")),
        ("PII_BUCKET", bucket("pii")),
        ("CLEAN_BUCKET", bucket("clean")),
        ("FINDINGS_BUCKET", bucket("findings")),
        ("ARCHIVE_BUCKET", bucket("archive")),
        ("ATHENA_WORKGROUP", bucket("wg")),
        ("GLUE_DATABASE", "txn_database".to_owned()),
        (
            "USER_POOL_ISSUER",
            format!("https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"),
        ),
        ("USER_POOL_CLIENT_ID", client_id.clone()),
        (
            "USER_POOL_JWKS_URL",
            format!("{endpoint}/{pool_id}/.well-known/jwks.json"),
        ),
        ("USER_POOL_ENDPOINT", format!("{endpoint}/")),
    ];
    let settings = ConsoleSettings::from_vars(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    })
    .unwrap();
    let console = open(&settings, &common::sdk_config(&endpoint))
        .await
        .unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, vigil_console::router(Arc::new(console)))
            .await
            .unwrap();
    });
    // The upload bucket lets the console's origin PUT, as the template's CORS rule does.
    s3.put_bucket_cors()
        .bucket(bucket("uploads"))
        .cors_configuration(
            aws_sdk_s3::types::CorsConfiguration::builder()
                .cors_rules(
                    aws_sdk_s3::types::CorsRule::builder()
                        .allowed_origins(&origin)
                        .allowed_methods("PUT")
                        .allowed_headers("*")
                        .max_age_seconds(3000)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let (_driver, c) = browser::open(&chromium, &driver, 1280, 900).await;

    // Ana signs up on the page, confirms with the code and signs in; she is no analyst.
    c.goto(&format!("{origin}/")).await.unwrap();
    browser::screenshot(&c, &screenshots(), "aws-sign-in-1280.png").await;
    sign_up_and_in(&c, "ana@example.com").await;
    wait_for(&c, "#tab-review", |h| h == "true", Some("hidden")).await;

    // Her loan application goes up by a presigned PUT, under her own prefix.
    let people = vigil_corpus::people().unwrap();
    let application = vigil_corpus::generate(&people, 11, 0);
    assert!(application.truth.pii);
    let file = std::env::temp_dir().join(format!("vigil-{run}-loan application.pdf"));
    std::fs::write(&file, &application.bytes).unwrap();
    c.find(fantoccini::Locator::Css("#file"))
        .await
        .unwrap()
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    wait_for(&c, "#upload-status", |t| t.contains("uploaded;"), None).await;
    let row = wait_for(&c, "#doc-list tr", |v| v == "pending", Some("data-verdict")).await;
    let id = row.attr("data-id").await.unwrap().unwrap();
    let uploaded = common::s3_keys(&s3, &bucket("uploads")).await;
    assert_eq!(uploaded.len(), 1, "{uploaded:?}");
    let key = &uploaded[0];
    let sub = key
        .strip_prefix("users/")
        .and_then(|k| k.strip_suffix(&format!("/{id}")))
        .unwrap_or_else(|| panic!("{key} is not users/<sub>/{id}"));
    let body = common::s3_bytes(&s3, &bucket("uploads"), key).await;
    assert_eq!(body, application.bytes);

    // The bucket's event starts classify-document, which files it; the page shows the verdict.
    let aws = common::aws_env(&endpoint);
    let extra = [
        ("PII_BUCKET", bucket("pii")),
        ("CLEAN_BUCKET", bucket("clean")),
        ("FINDINGS_BUCKET", bucket("findings")),
        ("MODEL_DIR", model),
    ];
    let classify = common::watch(
        env!("CARGO_BIN_EXE_classify-document"),
        &common::env_for(&aws, &extra),
    );
    let filed = common::invoke(
        &classify,
        &common::s3_event(&bucket("uploads"), &[key], "console-browser"),
    );
    assert_eq!(filed["filed"], 1, "{filed}");
    let findings = common::s3_keys(&s3, &bucket("findings")).await;
    assert_eq!(findings, vec![format!("findings/users/{sub}/{id}.json")]);
    wait_for(
        &c,
        &format!("#doc-list tr[data-id='{id}']"),
        |v| v == "pii",
        Some("data-verdict"),
    )
    .await;
    click(&c, &format!("#doc-list tr[data-id='{id}'] button")).await;
    wait_for(&c, "#doc-detail h3", |t| t.contains(&id), None).await;
    browser::screenshot(&c, &screenshots(), "aws-documents-1280.png").await;

    // Bea signs up too and sees nothing of Ana's.
    sign_out(&c).await;
    sign_up_and_in(&c, "bea@example.com").await;
    wait_for(&c, "#doc-empty", str::is_empty, Some("hidden")).await;
    assert!(
        c.find_all(fantoccini::Locator::Css("#doc-list tr"))
            .await
            .unwrap()
            .is_empty()
    );
    sign_out(&c).await;

    // Made an analyst, Ana sees the review queue on her next sign-in, masked.
    cognito
        .admin_add_user_to_group()
        .user_pool_id(&pool_id)
        .username("ana@example.com")
        .group_name(vigil_console::cognito::ANALYSTS_GROUP)
        .send()
        .await
        .unwrap();
    let event_id = "7f1c2a9e-3b4d-4e5f-8a6b-9c0d1e2f3a4b";
    common::queue_one_alert(&endpoint, event_id, "[\"new IP address for the customer\"]");
    sign_in(&c, "ana@example.com").await;
    wait_for(&c, "#who", |t| t.contains("analyst"), None).await;
    click(&c, "#tab-review").await;
    let alert = wait_for(&c, "#alert-list tr", |e| e == event_id, Some("data-event")).await;
    let shown = alert.text().await.unwrap();
    assert!(shown.contains("M****"), "{shown}");
    let source = c.source().await.unwrap();
    assert!(
        !source.contains("Michaela") && !source.contains("kiddmadison"),
        "the queue shows personal data unmasked"
    );
    browser::screenshot(&c, &screenshots(), "aws-review-1280.png").await;

    // Her documents are still hers after the group change (same subject, same prefix).
    click(&c, "#tab-documents").await;
    wait_for(&c, "#doc-list tr", |v| v == id, Some("data-id")).await;
    c.close().await.unwrap();
    server.abort();
}
