//! The studio camera in the window: starts [`StudioCamera`] for the
//! settings' folder, shows what it reports, and turns the operator's tray
//! keys into its calls. The rules themselves are in
//! [`crate::station::ingest`].

use super::*;
use crate::station::ingest::{BindError, StudioCamera};
use crate::store::{CameraFileId, CameraFileStatus};
use crate::ui::state::StudioView;

impl GradcapApp {
    /// (Re)starts watching the folder the settings name (or stops, for the webcam).
    pub(super) fn start_studio(&mut self) {
        self.studio = None;
        let (Some(dir), Some(st)) = (self.settings.shots.watched_folder(), &self.station) else {
            self.ui.studio = None;
            return;
        };
        match StudioCamera::start(&dir, st, self.settings.shots.ingest_config(), self.wake()) {
            Ok(studio) => {
                self.studio = Some(studio);
                self.ui.studio = Some(StudioView::default());
            }
            Err(e) => self.fail(&e),
        }
        self.refresh_tray();
    }

    /// The tray as the database has it, and the folder's state.
    pub(super) fn refresh_tray(&mut self) {
        let (Some(view), Some(st), Some(studio)) = (&mut self.ui.studio, &self.station, &self.studio) else { return };
        match st.unbound_camera_files() {
            Ok(tray) => view.tray = tray,
            Err(e) => tracing::warn!("the tray could not be read: {e}"),
        }
        view.status = studio.status().clone();
        view.armed = studio.ingest().armed(Instant::now());
    }

    /// 1b. The folder's reports: each whole file is bound or held at once.
    pub(super) fn poll_studio(&mut self, ctx: &egui::Context) {
        let (Some(studio), Some(st), Some(shutter)) = (&mut self.studio, &mut self.station, &mut self.shutter) else {
            return;
        };
        let session = st.session().id;
        let results = studio.poll(st, shutter);
        self.ui.shooting = shutter.busy();
        let held =
            results.iter().any(|r| matches!(r, Ok(Outcome::ShotHeld(row)) if row.status == CameraFileStatus::Unbound));
        if held {
            self.player.play(Cue::Duplicate);
        }
        let quiet: Vec<_> = results.into_iter().filter(|r| !matches!(r, Ok(Outcome::ShotKnown(_)))).collect();
        if !quiet.is_empty() {
            self.show_results(session, quiet, ctx);
        }
        self.refresh_tray();
    }

    /// The shutter key with the studio camera: with the station triggering
    /// it opens the binding window and runs the trigger command.
    pub(super) fn shoot_studio(&mut self) {
        let Some(studio) = &mut self.studio else { return };
        if self.settings.shots.trigger != crate::station::ingest::ShotTrigger::Station {
            self.say(messages::press_camera_shutter());
            return;
        }
        if self.station.as_ref().is_some_and(|s| s.take_under_review().is_some()) {
            self.say(messages::decide_current_photo_first());
            return;
        }
        let Some(head) = self.station.as_ref().and_then(|s| s.head().ok().flatten()).map(|h| h.id) else {
            self.fail(&StationError::NoStudent);
            return;
        };
        studio.ingest_mut().arm(head, Instant::now());
        let command = self.settings.shots.trigger_command.clone();
        if let Err(e) = crate::camera::folder::run_trigger(&command) {
            self.fail(&e);
        }
        let window = self.settings.shots.window_s;
        self.say(messages::studio_armed(window));
        self.refresh_tray();
    }

    /// Binds a tray file to the queue head (the operator's choice, audited).
    pub(super) fn bind_shot(&mut self, id: CameraFileId) {
        let (Some(studio), Some(st), Some(shutter)) = (&mut self.studio, &mut self.station, &mut self.shutter) else {
            return;
        };
        match studio.bind_held(id, st, shutter) {
            Ok(_) => self.ui.shooting = true,
            Err(BindError::Refused(e)) if matches!(*e, ShootRefused::ReviewPending) => {
                self.say(messages::decide_current_photo_first())
            }
            Err(e) => self.fail(&e),
        }
        self.refresh_tray();
    }

    /// The bind key: the oldest file of the tray.
    pub(super) fn bind_oldest_shot(&mut self) {
        let oldest = self.ui.studio.as_ref().and_then(|v| v.tray.first()).map(|r| r.id);
        match oldest {
            Some(id) => self.bind_shot(id),
            None if self.ui.studio.is_some() => self.say(messages::tray_empty()),
            None => {}
        }
    }

    pub(super) fn discard_shot(&mut self, id: CameraFileId) {
        let Some(st) = &mut self.station else { return };
        match st.discard_camera_file(id) {
            Ok(row) => self.say(messages::shot_discarded(&row.name)),
            Err(e) => self.fail(&e),
        }
        self.refresh_tray();
    }

    /// More takes of one student than the limit: warn (both sources).
    pub(super) fn check_shot_limit(&mut self, record: &crate::store::Record, take_no: i64) {
        let limit = self.settings.shots.limit;
        if take_no > i64::from(limit) {
            self.say(messages::shot_limit(&record.display_seq(), take_no, limit));
            self.player.play(Cue::Duplicate);
        }
    }
}
