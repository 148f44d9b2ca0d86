//! Opening the station's database, training mode, and settings changes
//! (a correction, or a new session the station starts when it is free).

use super::*;

impl GradcapApp {
    pub(super) fn open_station(&mut self) {
        self.assist_worker = None;
        self.ui.assist = None;
        let config = self.settings.station_config();
        let db = self.db_path();
        self.ui.training = self.training;
        let store = if self.training { Store::open_training(&db) } else { Store::open(&db) };
        // The station's own file must be a real one: a training database
        // opened as the station's would take drill codes without a banner.
        let store = store.and_then(|s| match s.mode()? {
            crate::store::Mode::Training if !self.training => Err(StoreError::TrainingDatabase),
            _ => Ok(s),
        });
        let opened = store
            .map_err(StationError::from)
            .and_then(|store| Station::open(store, &self.settings.session_info(), config));
        match opened {
            Ok(st) => {
                self.station = Some(st);
                self.startup_error = None;
                self.check_image_store(db.clone());
                if self.view == View::Assist {
                    self.start_assist_worker();
                }
            }
            Err(e) => {
                self.station = None;
                self.startup_error = Some(format!("{}: {e}", db.display()));
            }
        }
    }

    /// Switches between the station's database and its training database:
    /// the photo under review must be decided first; the camera follows
    /// (the demo camera only in training).
    pub(super) fn switch_training(&mut self, training: bool) {
        let shooting = self.shutter.as_ref().is_some_and(Shutter::busy);
        if self.station.as_ref().is_some_and(|s| s.take_under_review().is_some()) || shooting {
            self.fail(&StationError::ReviewPending);
            return;
        }
        self.training = training;
        self.station = None;
        self.ui.review = None;
        self.ui.skip_prompt = false;
        // The other database's messages do not follow onto this one's band.
        self.ui.feedback = None;
        self.ui.earlier.clear();
        self.open_station();
        self.start_camera();
        self.start_studio();
        self.say(messages::training(training));
    }

    /// Saves settings. A changed school name, school code or operator
    /// corrects the session in place (audited; numbering and queue go on). A new
    /// station or date is a new session: with students still waiting it is
    /// asked first (`confirmed`), and they stay in their session's queue.
    pub(super) fn save_settings(&mut self, new: Settings, confirmed: bool) {
        if let Err(e) = new.validate() {
            self.fail(&e);
            return;
        }
        // Compared with the session as it is open (a day that went past
        // midnight, a change still pending), not with the file.
        let old_info = self
            .station
            .as_ref()
            .map_or_else(|| self.settings.session_info(), |s| s.pending_session().unwrap_or(&s.session().info).clone());
        let new_info = new.session_info();
        let new_day = (&old_info.station, &old_info.date) != (&new_info.station, &new_info.date);
        let waiting = self.ui.snapshot.counts.waiting;
        if new_day && !confirmed && waiting > 0 && self.station.is_some() {
            self.ui.session_change_waiting = waiting;
            self.ui.confirm = Some(Command::SaveSettingsConfirmed(Box::new(new)));
            return;
        }
        // The session is changed in the database first: the file never says
        // what the session does not.
        let mut change = None;
        if old_info != new_info {
            if let Some(st) = &mut self.station {
                let session = st.session().id;
                match st.change_session(&new_info) {
                    Ok(c) => change = Some((c, st.session().id != session)),
                    Err(e) => {
                        self.fail(&e);
                        return;
                    }
                }
            }
        }
        if let Err(e) = new.save(&self.opts.settings_path) {
            self.fail(&e);
            return;
        }
        let config_changed = new.station_config() != self.settings.station_config();
        let camera_changed = (&new.camera_name, new.camera_width, new.camera_height, new.camera_fps, new.scan_hold_ms)
            != (
                &self.settings.camera_name,
                self.settings.camera_width,
                self.settings.camera_height,
                self.settings.camera_fps,
                self.settings.scan_hold_ms,
            )
            || (new.camera_exposure, new.camera_white_balance)
                != (self.settings.camera_exposure, self.settings.camera_white_balance);
        let shots_changed = new.shots != self.settings.shots;
        self.settings = new;
        if shots_changed {
            self.start_studio();
        }
        if camera_changed {
            self.start_camera();
        }
        if config_changed {
            // The photo checks apply from the next shot and to the live hints at once.
            if let Some(st) = &mut self.station {
                st.set_config(self.settings.station_config());
            }
            if !camera_changed {
                self.start_framing();
            }
        }
        self.ui.settings_draft = Some(self.settings.clone());
        match change {
            Some((_, true)) => self.session_started(),
            Some((SessionChange::AfterReview, _)) => return self.say(messages::session_change_waits_for_photo()),
            Some((SessionChange::Corrected, _)) => return self.say(messages::session_corrected()),
            // No station open (its database failed): the new settings may open one.
            None if self.station.is_none() && new_day => self.open_station(),
            _ => {}
        }
        self.say(messages::settings_saved());
    }

    /// A new session has started on the open database.
    pub(super) fn session_started(&mut self) {
        self.ui.review = None;
        self.ui.skip_prompt = false;
        if self.view == View::Assist {
            self.show_view(View::Assist);
        }
    }
}
