//! Where each pane goes, as pure arithmetic on the terminal size, shared by the view and by the
//! update (which needs the page height for PgUp/PgDn and for keeping the cursor on screen).

use ratatui::layout::Rect;

pub struct Areas {
    pub title: Rect,
    pub sessions: Option<Rect>,
    pub log: Rect,
    pub detail: Rect,
    pub status: Rect,
}

pub fn areas(area: Rect) -> Areas {
    let title = Rect {
        height: 1.min(area.height),
        ..area
    };
    let status = Rect {
        y: area.y + area.height.saturating_sub(1),
        height: 1.min(area.height),
        ..area
    };
    let body_h = area.height.saturating_sub(2);
    let detail_h = if body_h >= 16 {
        body_h * 2 / 5
    } else {
        body_h / 3
    };
    let top_h = body_h - detail_h;
    let top = Rect {
        x: area.x,
        y: area.y + 1,
        width: area.width,
        height: top_h,
    };
    let detail = Rect {
        x: area.x,
        y: area.y + 1 + top_h,
        width: area.width,
        height: detail_h,
    };
    let side = if area.width >= 100 {
        24
    } else if area.width >= 60 {
        18
    } else {
        0
    };
    let (sessions, log) = if side == 0 {
        (None, top)
    } else {
        (
            Some(Rect { width: side, ..top }),
            Rect {
                x: top.x + side,
                width: top.width - side,
                ..top
            },
        )
    };
    Areas {
        title,
        sessions,
        log,
        detail,
        status,
    }
}

/// Rows of frames the log shows (inside its border, below its header line).
pub fn frame_rows(width: u16, height: u16) -> usize {
    let a = areas(Rect::new(0, 0, width, height));
    a.log.height.saturating_sub(3) as usize
}

/// Lines the container logs pane shows (inside its border).
pub fn container_log_rows(width: u16, height: u16) -> usize {
    let a = areas(Rect::new(0, 0, width, height));
    a.detail.height.saturating_sub(2) as usize
}
