CREATE TABLE "recorded_responses" (
	"recording_id" uuid NOT NULL,
	"stimulus" integer NOT NULL,
	"neuron_id" uuid NOT NULL,
	"mean" double precision NOT NULL,
	"sem" double precision,
	"repeats" integer NOT NULL,
	"samples" double precision[] NOT NULL,
	CONSTRAINT "recorded_responses_recording_id_stimulus_neuron_id_pk" PRIMARY KEY("recording_id","stimulus","neuron_id")
);
--> statement-breakpoint
CREATE TABLE "recording_stimuli" (
	"recording_id" uuid NOT NULL,
	"stimulus" integer NOT NULL,
	"image_id" uuid,
	"dataset_id" uuid,
	"dataset_image" integer,
	CONSTRAINT "recording_stimuli_recording_id_stimulus_pk" PRIMARY KEY("recording_id","stimulus")
);
--> statement-breakpoint
CREATE TABLE "recordings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "recordings_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"session" text NOT NULL,
	"neuron_indices" integer[] NOT NULL,
	"stimulus_count" integer NOT NULL,
	"max_repeats" integer NOT NULL,
	"token_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "recorded_responses" ADD CONSTRAINT "recorded_responses_recording_id_recordings_id_fk" FOREIGN KEY ("recording_id") REFERENCES "public"."recordings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recorded_responses" ADD CONSTRAINT "recorded_responses_neuron_id_neurons_id_fk" FOREIGN KEY ("neuron_id") REFERENCES "public"."neurons"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recording_stimuli" ADD CONSTRAINT "recording_stimuli_recording_id_recordings_id_fk" FOREIGN KEY ("recording_id") REFERENCES "public"."recordings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recording_stimuli" ADD CONSTRAINT "recording_stimuli_image_id_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."images"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "recording_stimuli" ADD CONSTRAINT "recording_stimuli_dataset_id_datasets_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."datasets"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "recorded_responses_neuron" ON "recorded_responses" USING btree ("neuron_id");--> statement-breakpoint
CREATE INDEX "recording_stimuli_image" ON "recording_stimuli" USING btree ("image_id");--> statement-breakpoint
CREATE UNIQUE INDEX "recordings_session_name" ON "recordings" USING btree ("session","name");--> statement-breakpoint
CREATE UNIQUE INDEX "recordings_seq" ON "recordings" USING btree ("seq");