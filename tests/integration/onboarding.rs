//! Plain HTTP: onboarding and the CA only; everything else goes to HTTPS.

use crate::helpers::*;

fn plain() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn plain_http_redirects_everything_but_onboarding_to_https() {
    let b = TestBox::start().await;
    let r = plain()
        .get(b.http_url("/api/room?lang=vi"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 308);
    assert_eq!(
        r.headers()["location"],
        format!("https://127.0.0.1:{}/api/room?lang=vi", b.https_port).as_str()
    );
    // A Host the box does not answer to is not echoed into the redirect.
    let r = plain()
        .get(b.http_url("/x"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        loc.starts_with(&format!("https://{}:", b.local_name)),
        "{loc}"
    );
    // The redirect target really serves the app's API over trusted TLS.
    let room = b.get_json("/api/room").await;
    assert_eq!(room["name"], ROOM);
}

#[tokio::test]
async fn onboarding_page_offers_the_ca_in_every_form_and_a_qr_code() {
    let b = TestBox::start().await;
    let page = plain().get(b.http_url("/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains(ROOM));
    assert!(
        html.contains("Cài đặt tin cậy chứng nhận"),
        "iPad trust step missing"
    );
    assert!(html.contains("Certificate Trust Settings"));
    for link in ["/ca.mobileconfig", "/ca.crt", "/ca.pem"] {
        assert!(html.contains(&format!("href=\"{link}\"")), "{link}");
    }
    assert!(html.contains("<svg"), "QR code missing");
    assert!(html.contains(&format!("https://127.0.0.1:{}/", b.https_port)));

    let pem = plain()
        .get(b.http_url("/ca.pem"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(pem.trim(), b.root_pem().trim());
    let der = plain().get(b.http_url("/ca.crt")).send().await.unwrap();
    assert_eq!(der.headers()["content-type"], "application/x-x509-ca-cert");
    let der = der.bytes().await.unwrap();
    let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
    assert!(cert.is_ca());
    let mc = plain()
        .get(b.http_url("/ca.mobileconfig"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        mc.headers()["content-type"],
        "application/x-apple-aspen-config"
    );
    let mc = mc.text().await.unwrap();
    assert!(mc.contains("com.apple.security.root"));
    use base64::Engine;
    assert!(mc.contains(&base64::engine::general_purpose::STANDARD.encode(&der)[..60]));
}
