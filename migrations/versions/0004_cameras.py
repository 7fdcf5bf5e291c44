"""Camera registry: registrations, their systems, history and renewal reminders, and the
spatial index over approved, willing registrations.

On SQLite the index is an R*Tree virtual table kept in step by triggers; on PostgreSQL a
partial GiST index over ``ll_to_earth(latitude, longitude)`` (extensions cube and
earthdistance).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 07:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

SEARCHABLE = "status = 'approved' AND willing AND latitude IS NOT NULL AND longitude IS NOT NULL"

SQLITE_INDEX = [
    "CREATE VIRTUAL TABLE camera_index USING rtree(id, min_lat, max_lat, min_lon, max_lon)",
    f"""CREATE TRIGGER camera_index_insert AFTER INSERT ON camera_registrations
    WHEN {SEARCHABLE.replace('status', 'NEW.status').replace('willing', 'NEW.willing')
          .replace('latitude', 'NEW.latitude').replace('longitude', 'NEW.longitude')}
    BEGIN
      INSERT INTO camera_index VALUES
        (NEW.id, NEW.latitude, NEW.latitude, NEW.longitude, NEW.longitude);
    END""",
    f"""CREATE TRIGGER camera_index_update
    AFTER UPDATE OF status, willing, latitude, longitude ON camera_registrations
    BEGIN
      DELETE FROM camera_index WHERE id = OLD.id;
      INSERT INTO camera_index
        SELECT NEW.id, NEW.latitude, NEW.latitude, NEW.longitude, NEW.longitude
        WHERE {SEARCHABLE.replace('status', 'NEW.status').replace('willing', 'NEW.willing')
               .replace('latitude', 'NEW.latitude').replace('longitude', 'NEW.longitude')};
    END""",
    """CREATE TRIGGER camera_index_delete AFTER DELETE ON camera_registrations
    BEGIN
      DELETE FROM camera_index WHERE id = OLD.id;
    END""",
]

POSTGRES_INDEX = [
    "CREATE EXTENSION IF NOT EXISTS cube",
    "CREATE EXTENSION IF NOT EXISTS earthdistance",
    "CREATE INDEX ix_camera_registrations_earth ON camera_registrations "
    f"USING gist (ll_to_earth(latitude, longitude)) WHERE {SEARCHABLE}",
]


def upgrade():
    op.create_table('camera_registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=True),
    sa.Column('street', sa.String(length=120), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=True),
    sa.Column('city', sa.String(length=80), nullable=False),
    sa.Column('state', sa.String(length=2), nullable=False),
    sa.Column('zip_code', sa.String(length=10), nullable=False),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('location_source', sa.String(length=16), nullable=True),
    sa.Column('location_verified', sa.Boolean(), nullable=False),
    sa.Column('business_name', sa.String(length=120), nullable=True),
    sa.Column('business_type', sa.String(length=24), nullable=True),
    sa.Column('hours', sa.String(length=200), nullable=True),
    sa.Column('contact_name', sa.String(length=80), nullable=True),
    sa.Column('contact_phone', sa.String(length=16), nullable=True),
    sa.Column('placard_wanted', sa.Boolean(), nullable=False),
    sa.Column('contact_methods', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('willing', sa.Boolean(), nullable=False),
    sa.Column('terms_version', sa.String(length=32), nullable=False),
    sa.Column('terms_accepted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('camera_count', sa.Integer(), nullable=False),
    sa.Column('views', sa.String(length=120), nullable=False),
    sa.Column('retention_days', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('renewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number'),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('camera_registrations', schema=None) as batch_op:
        batch_op.create_index('ix_camera_registrations_queue', ['status', 'submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_camera_registrations_user_id'), ['user_id'], unique=False)

    op.create_table('camera_systems',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('placement', sa.String(length=10), nullable=True),
    sa.Column('camera_count', sa.Integer(), nullable=False),
    sa.Column('views', sa.String(length=120), nullable=False),
    sa.Column('recording', sa.String(length=12), nullable=False),
    sa.Column('retention_days', sa.Integer(), nullable=False),
    sa.Column('can_export', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['camera_registrations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('camera_systems', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_camera_systems_registration_id'), ['registration_id'], unique=False)

    op.create_table('camera_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['registration_id'], ['camera_registrations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('camera_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_camera_events_registration_id'), ['registration_id'], unique=False)

    op.create_table('camera_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('cycle', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['registration_id'], ['camera_registrations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('registration_id', 'kind', 'cycle')
    )
    with op.batch_alter_table('camera_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_camera_reminders_registration_id'), ['registration_id'], unique=False)

    statements = POSTGRES_INDEX if op.get_bind().dialect.name == "postgresql" else SQLITE_INDEX
    for statement in statements:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_camera_registrations_earth")
    else:
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS camera_index_{trigger}")
        op.execute("DROP TABLE IF EXISTS camera_index")
    op.drop_table('camera_reminders')
    op.drop_table('camera_events')
    op.drop_table('camera_systems')
    op.drop_table('camera_registrations')
