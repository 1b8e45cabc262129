package gen

// The incident generator's word lists, split per run like names.go's.

// imExtraCategoriesText adds desk categories to the taxonomy the migration
// seeds, each "key/Label: subkey/Sub label; …", most used first. With the
// seeded ones (hardware, software, network, access, facilities, inquiry) and
// the nine CND categories of the security path they make 30 categories.
const imExtraCategoriesText = `database/Database: db-connection/Cannot connect to the database; db-performance/Slow queries;
db-backup/Backup or restore; db-replication/Replication lag; db-corruption/Corrupt data or index|
messaging/Messaging: mailbox-full/Mailbox full; distribution-list/Distribution list; spam/Spam or phishing report;
delivery-failure/Message not delivered|
collaboration/Collaboration: chat/Chat and presence; sharepoint/SharePoint site; video-conference/Video teleconference;
file-sync/File synchronisation|
storage-backup/Storage and backup: disk-full/Disk or volume full; file-share/File share; quota/Storage quota;
restore-request/Restore of files|
endpoint/Endpoint protection: antivirus/Antivirus alert; patching/Patch failed; encryption/Disk encryption;
usb-blocked/Removable media blocked|
identity/Identity: directory-sync/Directory synchronisation; group-membership/Group membership;
service-account/Service account; sso/Single sign-on|
web/Web and portals: site-down/Site unavailable; certificate-expired/Certificate expired; slow-page/Slow page;
broken-link/Broken link or form|
erp/Business applications: finance-module/Finance module; logistics-module/Logistics module; personnel-module/Personnel module;
procurement-module/Procurement module|
voice/Voice: voicemail/Voicemail; handset/Desk phone; call-quality/Call quality; conference-bridge/Conference bridge|
mobile/Mobile: enrolment/Device enrolment; app-store/Managed app store; mobile-sync/Mail or calendar sync|
print-services/Print services: print-queue/Print queue; print-driver/Printer driver; badge-release/Badge print release|
cloud/Cloud platform: vm-provisioning/Virtual machine provisioning; container/Container platform; object-storage/Object storage|
middleware/Middleware: queue-backlog/Message queue backlog; integration-error/Integration error; api-gateway/API gateway|
monitoring/Monitoring: alert/Monitoring alert; false-positive/False alarm; agent-down/Monitoring agent down|
data-center/Data center: rack/Rack or cabling; ups/UPS or power distribution; environment/Temperature or humidity`

// imCategoryOrder ranks the desk categories by how often incidents fall in
// them; categories are drawn from a Zipf law over this order.
const imCategoryOrder = `software hardware access network inquiry messaging database collaboration storage-backup endpoint
identity web erp voice mobile print-services cloud middleware monitoring facilities data-center`

// imSecurityOrder ranks the CND categories (the security path) the same way:
// unsuccessful attempts, reconnaissance, malicious logic and non-compliance
// are common; root-level intrusions rare.
const imSecurityOrder = `cnd-cat-3 cnd-cat-6 cnd-cat-7 cnd-cat-5 cnd-cat-8 cnd-cat-9 cnd-cat-4 cnd-cat-2 cnd-cat-1`

// imTitlesText holds title templates per category, "category: template; …".
// {ci} is the affected CI's name (or "my computer" and the like), {svc} the
// affected service, {sub} the subcategory's label in lower case.
const imTitlesText = `software: {ci} crashes on start; Error message when saving in {ci}; {ci} freezes after the update;
Cannot open attachments in {ci}; {sub}: {ci} not working; Outlook crash when opening calendar; Licence expired for {ci}|
hardware: Laptop does not boot; Monitor flickers; Printer offline on third floor; Docking station not detected;
{sub} broken; Battery does not charge; Keyboard keys not responding; Disk failure reported on {ci}|
access: Password expired and cannot login; Account locked out; Need access to shared folder; CAC not recognised;
MFA token not accepted; Cannot login to {svc}; Permission denied on {ci}|
network: VPN disconnects every few minutes; No network connection in building; Slow network at {svc};
Wireless keeps dropping; Cannot resolve host name {ci}; Firewall blocks {svc}; Packet loss on {ci}|
inquiry: How to request a new laptop; Question about {svc}; Status of {svc} outage; How to set up out of office|
messaging: Mailbox full, cannot send; Email not delivered to external address; Suspicious email received;
Distribution list missing members|
database: Database connection timeout on {ci}; Slow queries on {ci}; Backup job failed on {ci}; Replication lag on {ci};
Deadlock errors in {ci}|
collaboration: Video call drops after five minutes; Cannot share screen in meeting; SharePoint site not loading;
Files not syncing to {svc}|
storage-backup: Disk full on {ci}; File share not accessible; Restore deleted folder; Backup failed for {ci}|
endpoint: Antivirus quarantined a file; Patch failed to install on {ci}; Encryption recovery key needed; USB drive blocked|
identity: Directory sync failure; Added to group but no access; Service account locked on {ci}; Single sign-on loop on {svc}|
web: {svc} website down; Certificate expired on {ci}; Slow page load on {svc}; Form submission error on {svc}|
erp: Posting error in finance module; Cannot approve purchase order; Payroll report wrong totals; {svc} transaction fails|
voice: No dial tone on desk phone; Voicemail password reset; Poor call quality to {svc}; Conference bridge not answering|
mobile: Phone cannot enrol; Mail not syncing on phone; Managed app will not install|
print-services: Print job stuck in queue; Printer driver missing; Badge release printer offline|
cloud: Virtual machine provisioning failed; Container restarts repeatedly on {ci}; Object storage access denied|
middleware: Message queue backlog on {ci}; Integration error between {svc} and {ci}; API gateway returns 502|
monitoring: Monitoring alert: {ci} not responding; CPU above threshold on {ci}; Monitoring agent down on {ci};
False alarm from {ci}|
facilities: Power outage in server room; Cooling failure alarm; Equipment needs to be moved|
data-center: Rack power distribution alarm; Temperature high in data hall; Cabling fault on {ci}|
security: Suspicious login attempts on {ci}; Port scan detected from external address; Malware detected on {ci};
Unauthorised software on {ci}; Phishing link clicked by user; Privileged account used outside hours on {ci};
Denial of service against {svc}; Unexplained outbound traffic from {ci}`

// imOpeningsText starts descriptions.
const imOpeningsText = `Caller reports that|User says|Reported by phone:|Caller states|Customer reports|Monitoring reported:|
Walk-in report:|The user writes:|Reported through the portal:|Several users report that`

// imDetailsText adds one detail to descriptions.
const imDetailsText = `It started this morning.|It worked yesterday.|Restarting did not help.|Other users nearby have the same problem.|
It happens intermittently.|The problem started after the latest update.|The user needs it for a deadline today.|
A screenshot of the error is available.|It only happens on the second floor.|The issue affects the whole team.|
Rebooting fixes it for a few minutes.|The caller is working remotely.|The caller already cleared the cache.|
No recent changes are known.|The error appears when opening large files.|Happens only when connected to the VPN.|
The caller cannot work until this is fixed.|It fails every time.|A colleague's machine works fine.|
The event log shows repeated warnings.`

// imErrorsText are error-code templates, # a random digit.
const imErrorsText = `Error 0x8007####.|HTTP 502 Bad Gateway.|ORA-#####.|Event ID ####.|Error code E-####.|Timeout after ## seconds.|
Exit code ###.|SQLSTATE 08###.|Status 0xC000####.|Error 5##.`

// imResolutionNotesText are resolution notes.
const imResolutionNotesText = `Restarted the service and confirmed with the caller.|Reset the password and unlocked the account.|
Reinstalled the application.|Replaced the faulty hardware.|Applied the known workaround.|Cleared the cache and profile.|
Corrected the configuration.|Added the user to the right group.|Freed disk space and extended the volume.|
Renewed the certificate.|Rolled back the update.|Escalated to the supplier, who fixed it.|Updated the driver.|
Caller resolved it themselves.|Could not reproduce; monitoring shows normal behaviour.|Rebooted the device.`

// imUpdatesText are stakeholder updates of a major incident, in order.
const imUpdatesText = `Major incident declared: we are investigating.|The cause has been identified; a fix is being prepared.|
A workaround is in place; some users may still be affected.|The fix is being deployed.|
Service is restored; we continue to monitor.`

// IncidentSearchTerms are full-text queries that match generated incidents:
// words of the title templates, so that every one of them finds incidents at
// any scale from about 10,000 (the share of each is below 1 %, so a page of
// 50 is a small part of what matches). bench's incident.search scenario
// rotates through them.
func IncidentSearchTerms() []string {
	return []string{"vpn disconnects", "password expired", "printer offline", "outlook crash", "account locked",
		"database connection timeout", "disk full", "certificate expired", "mailbox full", "slow network",
		"backup failed", "monitoring agent down", "wireless dropping", "video call drops", "print job stuck", "phishing"}
}
