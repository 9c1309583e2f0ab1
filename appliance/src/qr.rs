//! QR codes for the box's address: in the terminal at start-up, and as SVG on the onboarding
//! page, so a tablet can open the box by pointing its camera instead of typing.

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};

/// A QR code drawn with half-block characters, two modules per character row.
pub fn terminal(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    Some(
        code.render::<unicode::Dense1x2>()
            .dark_color(unicode::Dense1x2::Light)
            .light_color(unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

/// A QR code as an SVG document.
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_both_forms() {
        let t = super::terminal("https://phonghop-abc123.local/").unwrap();
        assert!(t.lines().count() > 10);
        assert!(super::svg("https://x/").unwrap().starts_with("<?xml"));
    }
}
