"""Safety profiles (encrypted sensitive fields), reminders, and the agency in audit rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 05:39:34.582467

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('street', sa.String(length=120), nullable=True),
    sa.Column('unit', sa.String(length=40), nullable=True),
    sa.Column('city', sa.String(length=80), nullable=True),
    sa.Column('state', sa.String(length=2), nullable=True),
    sa.Column('zip_code', sa.String(length=10), nullable=True),
    sa.Column('building_type', sa.String(length=24), nullable=True),
    sa.Column('floor', sa.String(length=20), nullable=True),
    sa.Column('bedrooms', sa.Text(), nullable=True),
    sa.Column('access_notes', sa.Text(), nullable=True),
    sa.Column('hazards', sa.Text(), nullable=True),
    sa.Column('utility_shutoffs', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('share_with_911', sa.Boolean(), nullable=False),
    sa.Column('emergency_planning', sa.Boolean(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_profiles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profiles')),
    sa.UniqueConstraint('user_id', name=op.f('uq_profiles_user_id'))
    )
    op.create_table('emergency_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('relationship', sa.String(length=24), nullable=True),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=60), nullable=True),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_emergency_contacts_profile_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_emergency_contacts'))
    )
    with op.batch_alter_table('emergency_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_emergency_contacts_profile_id'), ['profile_id'], unique=False)

    op.create_table('household_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('relationship', sa.String(length=24), nullable=True),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('language', sa.String(length=60), nullable=True),
    sa.Column('interpreter_needed', sa.Boolean(), nullable=False),
    sa.Column('communication', sa.Text(), nullable=True),
    sa.Column('medical_conditions', sa.Text(), nullable=True),
    sa.Column('medications', sa.Text(), nullable=True),
    sa.Column('allergies', sa.Text(), nullable=True),
    sa.Column('blood_type', sa.Text(), nullable=True),
    sa.Column('mental_health', sa.Text(), nullable=True),
    sa.Column('disabilities', sa.Text(), nullable=True),
    sa.Column('equipment', sa.Text(), nullable=True),
    sa.Column('advance_directive', sa.Text(), nullable=True),
    sa.Column('vaccinations', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_household_members_profile_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_members'))
    )
    with op.batch_alter_table('household_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_members_profile_id'), ['profile_id'], unique=False)

    op.create_table('pets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=True),
    sa.Column('kind', sa.String(length=60), nullable=True),
    sa.Column('service_animal', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_pets_profile_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pets'))
    )
    with op.batch_alter_table('pets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pets_profile_id'), ['profile_id'], unique=False)

    op.create_table('profile_phones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_profile_phones_profile_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profile_phones')),
    sa.UniqueConstraint('profile_id', 'phone', name=op.f('uq_profile_phones_profile_id'))
    )
    with op.batch_alter_table('profile_phones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_profile_phones_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_profile_phones_profile_id'), ['profile_id'], unique=False)

    op.create_table('profile_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('cycle', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_profile_reminders_profile_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profile_reminders')),
    sa.UniqueConstraint('profile_id', 'kind', 'cycle', name=op.f('uq_profile_reminders_profile_id'))
    )
    with op.batch_alter_table('profile_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_profile_reminders_profile_id'), ['profile_id'], unique=False)

    op.create_table('vehicles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('make', sa.String(length=40), nullable=True),
    sa.Column('model', sa.String(length=40), nullable=True),
    sa.Column('colour', sa.String(length=30), nullable=True),
    sa.Column('plate', sa.String(length=12), nullable=True),
    sa.ForeignKeyConstraint(['profile_id'], ['profiles.id'], name=op.f('fk_vehicles_profile_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vehicles'))
    )
    with op.batch_alter_table('vehicles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vehicles_profile_id'), ['profile_id'], unique=False)

    # Plain ALTER TABLE (not batch mode): recreating the table would drop its append-only triggers.
    op.add_column('audit_events', sa.Column('agency', sa.String(length=80), nullable=True))



def downgrade():
    op.drop_column('audit_events', 'agency')  # SQLite >= 3.35 drops columns in place

    with op.batch_alter_table('vehicles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vehicles_profile_id'))

    op.drop_table('vehicles')
    with op.batch_alter_table('profile_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_profile_reminders_profile_id'))

    op.drop_table('profile_reminders')
    with op.batch_alter_table('profile_phones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_profile_phones_profile_id'))
        batch_op.drop_index(batch_op.f('ix_profile_phones_phone'))

    op.drop_table('profile_phones')
    with op.batch_alter_table('pets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pets_profile_id'))

    op.drop_table('pets')
    with op.batch_alter_table('household_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_members_profile_id'))

    op.drop_table('household_members')
    with op.batch_alter_table('emergency_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emergency_contacts_profile_id'))

    op.drop_table('emergency_contacts')
    op.drop_table('profiles')
