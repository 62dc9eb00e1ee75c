CREATE TABLE `audit_log` (
	`id` text PRIMARY KEY NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`target` text NOT NULL,
	`detail` text NOT NULL,
	`remote_addr` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_log_at_idx` ON `audit_log` (`at`,`id`);--> statement-breakpoint
CREATE INDEX `audit_log_actor_idx` ON `audit_log` (`actor`,`at`);--> statement-breakpoint
CREATE INDEX `audit_log_action_idx` ON `audit_log` (`action`,`at`);--> statement-breakpoint
CREATE TABLE `components` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`version` text NOT NULL,
	`sha256` text NOT NULL,
	`size` integer NOT NULL,
	`path` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `components_name_version_uq` ON `components` (`name`,`version`);--> statement-breakpoint
CREATE INDEX `components_type_idx` ON `components` (`type`);--> statement-breakpoint
CREATE TABLE `host_addrs` (
	`agent_id` text NOT NULL,
	`addr` text NOT NULL,
	PRIMARY KEY(`agent_id`, `addr`),
	FOREIGN KEY (`agent_id`) REFERENCES `hosts`(`agent_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `host_addrs_addr_idx` ON `host_addrs` (`addr`);--> statement-breakpoint
CREATE TABLE `host_tags` (
	`agent_id` text NOT NULL,
	`tag` text NOT NULL,
	PRIMARY KEY(`agent_id`, `tag`),
	FOREIGN KEY (`agent_id`) REFERENCES `hosts`(`agent_id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `host_tags_tag_idx` ON `host_tags` (`tag`,`agent_id`);--> statement-breakpoint
CREATE TABLE `hosts` (
	`agent_id` text PRIMARY KEY NOT NULL,
	`hostname` text NOT NULL,
	`intranet_ipv4` text NOT NULL,
	`extranet_ipv4` text NOT NULL,
	`intranet_ipv6` text NOT NULL,
	`extranet_ipv6` text NOT NULL,
	`version` text NOT NULL,
	`product` text NOT NULL,
	`ac_addr` text NOT NULL,
	`first_seen_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	`facts` text NOT NULL,
	`plugins` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `hosts_hostname_idx` ON `hosts` (`hostname`,`agent_id`);--> statement-breakpoint
CREATE INDEX `hosts_last_seen_at_idx` ON `hosts` (`last_seen_at`);--> statement-breakpoint
CREATE INDEX `hosts_version_idx` ON `hosts` (`version`);--> statement-breakpoint
CREATE TABLE `policies` (
	`scope` text PRIMARY KEY NOT NULL,
	`components` text NOT NULL,
	`updated_by` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `sessions` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`revoked_at` integer,
	`remote_addr` text NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `sessions_user_id_idx` ON `sessions` (`user_id`);--> statement-breakpoint
CREATE TABLE `sub_tasks` (
	`task_id` text NOT NULL,
	`agent_id` text NOT NULL,
	`token` text NOT NULL,
	`status` text NOT NULL,
	`msg` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`task_id`, `agent_id`),
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sub_tasks_token_uq` ON `sub_tasks` (`token`);--> statement-breakpoint
CREATE INDEX `sub_tasks_task_status_idx` ON `sub_tasks` (`task_id`,`status`);--> statement-breakpoint
CREATE INDEX `sub_tasks_agent_id_idx` ON `sub_tasks` (`agent_id`);--> statement-breakpoint
CREATE INDEX `sub_tasks_status_updated_idx` ON `sub_tasks` (`status`,`updated_at`);--> statement-breakpoint
CREATE TABLE `tasks` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`data_type` integer NOT NULL,
	`object_name` text NOT NULL,
	`data` text NOT NULL,
	`target` text NOT NULL,
	`state` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`timeout_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `tasks_created_at_idx` ON `tasks` (`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `users` (
	`id` text PRIMARY KEY NOT NULL,
	`username` text NOT NULL,
	`role` text NOT NULL,
	`password_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_username_uq` ON `users` (`username`);--> statement-breakpoint
CREATE INDEX `users_created_at_idx` ON `users` (`created_at`);